/// One node's end of the authenticated transport, sans-IO: seals outgoing frames for a peer
/// address, opens incoming bytes, and runs the certificate exchange — a node's certificate rides
/// on its first `certificateCopies` envelopes to each address (so one lost datagram cannot leave
/// every retry `unknown_sender`), and a receiver that drops an envelope as `unknown_sender` asks
/// that address for it (`FrameType.certificateRequest`), which the sender answers with an empty
/// envelope carrying its certificate. A receiver that already admitted the certificate checks
/// only its standing, so the copies cost bytes, not signature checks.
///
/// Nothing an unauthenticated datagram makes this node send may turn it into a reflector for a
/// spoofed source address: a certificate request goes to the claimed sender's membership address
/// when it is a member, and otherwise to the source at most once per
/// `certificateRequestIntervalNanoseconds` per address and `certificateRequestsPerSecond` in all;
/// and it carries this node's certificate only to an address this node chose to talk to (a
/// member's, or one it sent to on its own). So a flood of forged 116-byte datagrams costs a bounded
/// number of small signed replies, never a certificate per datagram to whatever address they name.
///
/// Stream (TCP) envelopes carry it on the first copies too, and then once every
/// `streamCertificateRefreshNanoseconds` to an address: over a stream the receiver cannot ask the
/// connection's source (its port is ephemeral), so it asks the address the sender's membership
/// entry gives (`receive(_:from:at:senderAddress:)`), and the refresh covers a receiver that does
/// not know the sender yet. A sender that comes back with a new epoch (it restarted, and forgot
/// every certificate) gets ours again on the next envelopes.
///
/// `Address` is whatever the shell uses to reach a peer: a simulator index, a socket address.
public struct EnvelopeLink<Signer: MessageSigner, Suite: CryptoSuite, Address: Hashable & Sendable>: Sendable {
    public private(set) var sealer: EnvelopeSealer<Signer>
    public var opener: EnvelopeOpener<Suite>
    /// The largest datagram (unreliable) envelope.
    public let datagramLimit: Int
    /// The largest stream (reliable, TCP in the runtime) envelope.
    public let streamLimit: Int
    /// How many envelopes to each address carry the certificate.
    public var certificateCopies = 3
    /// How often a stream envelope to an address carries the certificate after the first copies.
    public var streamCertificateRefreshNanoseconds: Int64 = 30_000_000_000
    /// Envelopes sent to each address with the certificate attached.
    private var certificatesSent: [Address: Int] = [:]
    /// The shortest time between two certificate requests to one address a stranger's envelope
    /// came from (a member's address is asked whenever needed).
    public var certificateRequestIntervalNanoseconds: Int64 = 1_000_000_000
    /// Certificate requests to addresses that are not members', at most, per second.
    public var certificateRequestsPerSecond = 20
    /// When each address was last sent a certificate request (pruned as entries age out).
    private var certificateRequestedAt: [Address: Instant] = [:]
    /// Requests to strangers in the current second, and when that second began.
    private var strangerRequests = (count: 0, since: Instant(nanoseconds: 0))
    /// Certificate requests not sent because of the limits.
    public private(set) var certificateRequestsLimited = 0
    /// When a stream envelope to each address last carried the certificate.
    private var streamCertificateAt: [Address: Instant] = [:]

    /// Envelopes that could not be sealed within their limit.
    public private(set) var sealFailures = 0
    /// The largest datagram sealed so far.
    public private(set) var largestDatagram = 0

    public init(
        sealer: EnvelopeSealer<Signer>, opener: EnvelopeOpener<Suite>, datagramLimit: Int = 1200,
        streamLimit: Int = EnvelopeHeader.streamLimit
    ) {
        self.sealer = sealer
        self.opener = opener
        self.datagramLimit = datagramLimit
        self.streamLimit = streamLimit
    }

    /// Bytes left for frames in a datagram that may carry this node's certificate.
    public var datagramFrameCapacity: Int {
        datagramLimit - (sealer.maximumLength - sealer.frameCapacity(attachingCertificate: true))
    }

    /// Whether an envelope carries this node's certificate.
    public enum CertificateChoice: Sendable {
        /// On the first copies to an address, and on streams once per refresh period.
        case usual
        /// Always (a certificate request: the peer may lack ours as we lack theirs).
        case always
        /// Never (a reply to an address no one vouched for).
        case never
    }

    /// Seals `frames` for `address`; `nil` (and a counted failure) when they do not fit.
    public mutating func seal(
        _ frames: [Frame], to address: Address, reliable: Bool, at now: Instant, certificate: CertificateChoice = .usual
    ) -> [UInt8]? {
        let streamRefreshDue =
            reliable
            && streamCertificateAt[address].map { $0.advanced(byNanoseconds: streamCertificateRefreshNanoseconds) <= now }
                ?? true
        let attach: Bool =
            switch certificate {
            case .usual: streamRefreshDue || certificatesSent[address, default: 0] < certificateCopies
            case .always: true
            case .never: false
            }
        sealer.maximumLength = reliable ? streamLimit : datagramLimit
        guard let bytes = try? sealer.seal(frames, attachingCertificate: attach, at: now) else {
            sealFailures += 1
            return nil
        }
        if attach { certificatesSent[address, default: 0] += 1 }
        if attach, reliable { streamCertificateAt[address] = now }
        if !reliable { largestDatagram = max(largestDatagram, bytes.count) }
        return bytes
    }

    /// What arrived, and what to send back at once (certificate exchange).
    public struct Received: Sendable {
        /// The opened envelope without certificate-exchange frames, or `nil` when it was dropped.
        public var envelope: OpenedEnvelope?
        /// The reason it was dropped, if it was.
        public var dropped: DropReason?
        /// Envelopes to send back, as datagrams, to `replyTo`.
        public var replies: [[UInt8]]
        /// Where the replies go: the sender's own address when `senderAddress` knew it, else the
        /// address the bytes came from.
        public var replyTo: Address
    }

    /// Opens `bytes` that came from `address`, over a stream (`reliable`: TCP, up to `streamLimit`
    /// bytes) or as a datagram (up to `datagramLimit`: a longer one is dropped as `oversize`).
    /// `senderAddress` gives the address a sender listens on, when known (its membership entry): a
    /// certificate request for an envelope from an unknown sender goes there, and a sender's new
    /// epoch makes our certificate ride again to it.
    public mutating func receive(
        _ bytes: [UInt8], from address: Address, reliable: Bool, at now: Instant,
        senderAddress: (NodeID) -> Address? = { _ in nil }
    ) -> Received {
        let claimed = EnvelopeHeader.sender(in: bytes)
        // The replay window holds each sender's newest epoch: a different one means it restarted.
        let previousEpoch = claimed.flatMap { opener.replay.epoch(of: $0) }
        opener.maximumLength = reliable ? streamLimit : datagramLimit
        switch opener.open(bytes, at: now) {
        case .failure(.unknownSender):
            let member = claimed.flatMap(senderAddress)
            let replyTo = member ?? address
            guard member != nil || mayRequestCertificate(from: replyTo, at: now) else {
                certificateRequestsLimited += 1
                return Received(envelope: nil, dropped: .unknownSender, replies: [], replyTo: replyTo)
            }
            // Our certificate rides along only to an address this node knows: a member's, or one
            // it already sent to on its own (a seed it asked to join).
            let known = member != nil || certificatesSent[replyTo] != nil
            let request = seal(
                [Frame(type: FrameType.certificateRequest, body: [])], to: replyTo, reliable: false, at: now,
                certificate: known ? .always : .never)
            return Received(envelope: nil, dropped: .unknownSender, replies: request.map { [$0] } ?? [], replyTo: replyTo)
        case .failure(let reason):
            return Received(envelope: nil, dropped: reason, replies: [], replyTo: address)
        case .success(var envelope):
            if let previousEpoch, previousEpoch != envelope.header.epoch {
                resendCertificate(to: senderAddress(envelope.header.sender) ?? address)
            }
            var replies: [[UInt8]] = []
            if envelope.frames.contains(where: { $0.type == FrameType.certificateRequest }) {
                certificatesSent[address] = nil
                if let hello = seal([], to: address, reliable: false, at: now) { replies.append(hello) }
                envelope.frames.removeAll { $0.type == FrameType.certificateRequest }
            }
            return Received(envelope: envelope, dropped: nil, replies: replies, replyTo: address)
        }
    }

    /// Whether a certificate request may go to `address`, a stranger's source: not more often than
    /// once per interval to one address, nor more than the limit per second in all. Counts it.
    private mutating func mayRequestCertificate(from address: Address, at now: Instant) -> Bool {
        if let last = certificateRequestedAt[address], now.nanoseconds &- last.nanoseconds < certificateRequestIntervalNanoseconds {
            return false
        }
        if now.nanoseconds &- strangerRequests.since.nanoseconds >= 1_000_000_000 {
            strangerRequests = (0, now)
            // Entries older than the interval no longer limit anything.
            certificateRequestedAt = certificateRequestedAt.filter {
                now.nanoseconds &- $0.value.nanoseconds < certificateRequestIntervalNanoseconds
            }
        }
        guard strangerRequests.count < certificateRequestsPerSecond else { return false }
        strangerRequests.count += 1
        certificateRequestedAt[address] = now
        return true
    }

    /// Forgets that `address` has our certificate (it restarted, or our certificate changed).
    public mutating func resendCertificate(to address: Address) {
        certificatesSent[address] = nil
        streamCertificateAt[address] = nil
    }

    /// Seals from now on with a new key and certificate of the same node (same id, epoch and
    /// sequence), attaching the certificate again to the next envelopes to every address.
    public mutating func replaceIdentity(signer: Signer, certificate: Certificate) {
        sealer = sealer.replacingIdentity(signer: signer, certificate: certificate)
        certificatesSent = [:]
        streamCertificateAt = [:]
    }
}

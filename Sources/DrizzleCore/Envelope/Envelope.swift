/// One typed message inside an envelope. The envelope does not interpret bodies; each protocol
/// component decodes the frame types it owns (see `FrameType`).
public struct Frame: Hashable, Sendable {
    public var type: UInt8
    public var body: [UInt8]

    public init(type: UInt8, body: [UInt8]) {
        self.type = type
        self.body = body
    }

    /// Bytes a frame adds before its body: type (1) and length (4).
    public static let overhead = 5

    /// The encoded size of this frame.
    public var encodedLength: Int { Frame.overhead + body.count }
}

/// The fixed header at the start of every datagram and TCP frame. Layout in docs/protocol.md.
public struct EnvelopeHeader: Hashable, Sendable {
    public static let magic: [UInt8] = [0x42, 0x44]  // "BD"
    public static let version: UInt8 = 1
    public static let byteCount = 52

    /// Flag bit 0: the sender's certificate follows the header.
    public static let certificateAttached: UInt8 = 0x01
    static let knownFlags: UInt8 = certificateAttached

    public var flags: UInt8
    /// The total length of the envelope in bytes, signature included.
    public var length: UInt32
    public var sender: NodeID
    public var serial: UInt64
    /// Changes each time the sender starts; the replay window resets on a newer epoch.
    public var epoch: UInt32
    public var sequence: UInt64
    /// The sender's clock when it sealed the envelope.
    public var sentAt: Instant

    /// The largest envelope a node accepts (over TCP; datagrams are limited by the sender's MTU).
    public static let streamLimit = 16 << 20

    /// The checks that need nothing but the bytes — size, magic, version, flags, length field — in
    /// the order `open` makes them: nil when `bytes` may be an envelope. The runtime applies it
    /// where datagrams arrive, so garbage is dropped (and counted) before it costs the node anything.
    public static func screen(_ bytes: [UInt8], maximumLength: Int) -> DropReason? {
        if bytes.count > maximumLength { return .oversize }
        var reader = ByteReader(bytes)
        guard let magic = reader.readBytes(2), let version = reader.readUInt8() else { return .truncated }
        guard magic == EnvelopeHeader.magic else { return .malformed }
        guard version == EnvelopeHeader.version else { return .badVersion }
        guard let flags = reader.readUInt8(), let length = reader.readUInt32() else { return .truncated }
        guard flags & ~EnvelopeHeader.knownFlags == 0 else { return .malformed }
        if Int(length) > bytes.count { return .truncated }
        guard Int(length) == bytes.count, bytes.count >= EnvelopeHeader.byteCount + signatureByteCount else {
            return .malformed
        }
        return nil
    }

    /// The sender id the header claims, unverified: nil when `bytes` are too short to hold one.
    public static func sender(in bytes: [UInt8]) -> NodeID? {
        guard bytes.count >= 24 else { return nil }
        var reader = ByteReader(bytes, range: 8..<24)
        guard let high = reader.readUInt64(), let low = reader.readUInt64() else { return nil }
        return NodeID(high: high, low: low)
    }
}

/// A datagram that passed every check, with its messages.
public struct OpenedEnvelope: Sendable {
    public var header: EnvelopeHeader
    /// The sender's certificate (as admitted, whether attached or already known).
    public var certificate: Certificate
    public var frames: [Frame]
}

/// Seals outgoing envelopes for one identity: header, frames, one Ed25519 signature.
public struct EnvelopeSealer<Signer: MessageSigner>: Sendable {
    public let signer: Signer
    public let certificate: Certificate
    /// `certificate` encoded once: every envelope that carries it, and every capacity question, uses it.
    private let encodedCertificate: [UInt8]
    public let sender: NodeID
    public let epoch: UInt32
    /// The next sequence number to use.
    public private(set) var nextSequence: UInt64
    /// The largest envelope this sealer produces, signature included.
    public var maximumLength: Int

    /// Why frames could not be sealed.
    public enum SealError: Error, Equatable, Sendable, CustomStringConvertible {
        case tooLarge(needed: Int, limit: Int)

        public var description: String {
            switch self {
            case .tooLarge(let needed, let limit): "envelope of \(needed) bytes exceeds the limit of \(limit) bytes"
            }
        }
    }

    /// - Parameters:
    ///   - sender: the ring id of `signer`'s public key.
    ///   - epoch: distinct for each start of the sender (the runtime passes its start time in seconds).
    public init(
        signer: Signer, certificate: Certificate, sender: NodeID, epoch: UInt32, maximumLength: Int = 1200
    ) {
        self.signer = signer
        self.certificate = certificate
        encodedCertificate = certificate.encoded
        self.sender = sender
        self.epoch = epoch
        self.nextSequence = 0
        self.maximumLength = maximumLength
    }

    /// Room left for frames (including their 5-byte overheads) in one envelope.
    public func frameCapacity(attachingCertificate: Bool) -> Int {
        maximumLength - EnvelopeHeader.byteCount - signatureByteCount
            - (attachingCertificate ? 2 + encodedCertificate.count : 0)
    }

    /// The same sender, epoch and sequence numbers with another key and certificate (a rotated key
    /// of the same node): receivers' replay windows carry on undisturbed.
    public func replacingIdentity(signer: Signer, certificate: Certificate) -> EnvelopeSealer {
        var sealer = EnvelopeSealer(
            signer: signer, certificate: certificate, sender: sender, epoch: epoch, maximumLength: maximumLength)
        sealer.nextSequence = nextSequence
        return sealer
    }

    /// Encodes and signs `frames`, consuming one sequence number.
    public mutating func seal(
        _ frames: [Frame], attachingCertificate: Bool = false, at now: Instant
    ) throws(SealError) -> [UInt8] {
        let certificateBytes = attachingCertificate ? encodedCertificate : []
        let length =
            EnvelopeHeader.byteCount + (attachingCertificate ? 2 + certificateBytes.count : 0)
            + frames.reduce(0) { $0 + $1.encodedLength } + signatureByteCount
        guard length <= maximumLength else { throw .tooLarge(needed: length, limit: maximumLength) }
        var writer = ByteWriter(capacity: length)
        writer.write(bytes: EnvelopeHeader.magic)
        writer.write(EnvelopeHeader.version)
        writer.write(attachingCertificate ? EnvelopeHeader.certificateAttached : 0)
        writer.write(UInt32(length))
        writer.write(sender.high)
        writer.write(sender.low)
        writer.write(certificate.serial)
        writer.write(epoch)
        writer.write(nextSequence)
        writer.write(now.nanoseconds)
        if attachingCertificate {
            writer.write(UInt16(certificateBytes.count))
            writer.write(bytes: certificateBytes)
        }
        for frame in frames {
            writer.write(frame.type)
            writer.write(UInt32(frame.body.count))
            writer.write(bytes: frame.body)
        }
        nextSequence &+= 1
        var bytes = writer.finish()
        let signature = bytes.withUnsafeBytes { signer.signature(of: $0) }
        bytes.append(contentsOf: signature)
        return bytes
    }
}

/// Opens incoming envelopes: checks length, version, certificate, signature and replay window in
/// that order, counts every drop by reason, and decodes the frames. Never traps on any input.
public struct EnvelopeOpener<Suite: CryptoSuite>: Sendable {
    public let suite: Suite
    public var trust: TrustStore
    public var replay: ReplayWindow
    public private(set) var drops = DropCounters()
    /// The largest envelope accepted, signature included.
    public var maximumLength: Int

    public init(suite: Suite, trust: TrustStore, replayWindowSize: Int = 1024, maximumLength: Int = 1200) {
        self.suite = suite
        self.trust = trust
        self.replay = ReplayWindow(size: replayWindowSize)
        self.maximumLength = maximumLength
    }

    /// Verifies and decodes `bytes` received at `now`; on failure the drop is counted and its reason returned.
    public mutating func open(_ bytes: [UInt8], at now: Instant) -> Result<OpenedEnvelope, DropReason> {
        let result = check(bytes, at: now)
        if case .failure(let reason) = result { drops.record(reason) }
        return result
    }

    private mutating func check(_ bytes: [UInt8], at now: Instant) -> Result<OpenedEnvelope, DropReason> {
        if let reason = EnvelopeHeader.screen(bytes, maximumLength: maximumLength) { return .failure(reason) }
        // The whole header is there: `screen` checked the length.
        var reader = ByteReader(bytes, range: 3..<bytes.count)
        guard let flags = reader.readUInt8(), let length = reader.readUInt32(), let high = reader.readUInt64(),
            let low = reader.readUInt64(), let serial = reader.readUInt64(), let epoch = reader.readUInt32(),
            let sequence = reader.readUInt64(), let sentAt = reader.readInt64()
        else { return .failure(.truncated) }
        let header = EnvelopeHeader(
            flags: flags, length: length, sender: NodeID(high: high, low: low), serial: serial, epoch: epoch,
            sequence: sequence, sentAt: Instant(nanoseconds: sentAt))
        let signedEnd = bytes.count - signatureByteCount
        var body = ByteReader(bytes, range: reader.position..<signedEnd)

        let certificate: Certificate
        let attached = flags & EnvelopeHeader.certificateAttached != 0
        if attached {
            guard let certificateLength = body.readUInt16(), let range = body.skip(Int(certificateLength)) else {
                return .failure(.malformed)
            }
            var certificateReader = ByteReader(bytes, range: range)
            guard let decoded = try? Certificate(reading: &certificateReader), certificateReader.isAtEnd else {
                return .failure(.malformed)
            }
            guard decoded.serial == serial, decoded.nodeID(suite: suite) == header.sender else {
                return .failure(.badCertificate)
            }
            // A certificate admitted before needs only its standing checked, not its CA signature again.
            let known = trust.certificate(of: header.sender, serial: serial) == decoded
            let failure = known ? trust.checkStanding(decoded, at: now) : trust.check(decoded, at: now, suite: suite)
            if let reason = failure { return .failure(reason) }
            certificate = decoded
        } else {
            guard let known = trust.certificate(of: header.sender, serial: serial) else {
                return .failure(.unknownSender)
            }
            if let reason = trust.checkStanding(known, at: now) { return .failure(reason) }
            certificate = known
        }

        let signatureValid = bytes.withUnsafeBytes { raw in
            suite.isValidSignature(
                UnsafeRawBufferPointer(rebasing: raw[signedEnd...]),
                of: UnsafeRawBufferPointer(rebasing: raw[..<signedEnd]), by: certificate.publicKey)
        }
        guard signatureValid else { return .failure(.badSignature) }

        var frames: [Frame] = []
        while !body.isAtEnd {
            guard let type = body.readUInt8(), let frameLength = body.readUInt32(),
                let frameBody = body.readBytes(Int(frameLength))
            else { return .failure(.malformed) }
            frames.append(Frame(type: type, body: frameBody))
        }
        if let reason = replay.accept(sender: header.sender, epoch: epoch, sequence: sequence) {
            return .failure(reason)
        }
        if attached { trust.admit(certificate, at: now, suite: suite) }
        return .success(OpenedEnvelope(header: header, certificate: certificate, frames: frames))
    }
}

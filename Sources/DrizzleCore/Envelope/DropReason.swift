/// Why a datagram or frame was dropped. Every drop is counted under exactly one reason; the raw
/// values are the metric labels and what `RI` prints.
public enum DropReason: String, Error, CaseIterable, Hashable, Sendable, CustomStringConvertible {
    /// Bad magic, unknown flag bits, a length field that disagrees, or messages that do not parse.
    case malformed
    /// Shorter than its header says (any truncation of a valid datagram lands here).
    case truncated
    /// Longer than the configured maximum datagram size.
    case oversize
    /// A protocol version this node does not speak.
    case badVersion = "bad_version"
    /// No certificate known for the sender id and serial, and none attached.
    case unknownSender = "unknown_sender"
    /// The certificate names an issuer that is not in the trust bundle (another cluster's CA).
    case untrustedIssuer = "untrusted_issuer"
    /// The certificate's own signature is invalid, it is not a node certificate, or it does not
    /// belong to the sender id and serial in the header.
    case badCertificate = "bad_certificate"
    /// The sender's certificate is past its not-after time.
    case expired
    /// The sender's certificate is not valid yet.
    case notYetValid = "not_yet_valid"
    /// The sender's certificate serial or key is on the revocation list.
    case revoked
    /// The datagram's signature does not verify under the sender's key.
    case badSignature = "bad_signature"
    /// A sequence number already seen from this sender.
    case replay
    /// A sequence number (or sender epoch) older than the replay window remembers.
    case tooOld = "too_old"
    /// Arrived while the node's inbound queue was full (a flood faster than the node reads):
    /// dropped unread. Counted by the runtime, never by the core.
    case overloaded

    public var description: String { rawValue }
}

/// Drop counts by reason.
public struct DropCounters: Hashable, Sendable {
    private var counts: [DropReason: UInt64] = [:]

    public init() {}

    public mutating func record(_ reason: DropReason) { counts[reason, default: 0] += 1 }

    public subscript(reason: DropReason) -> UInt64 { counts[reason, default: 0] }

    /// The sum over all reasons.
    public var total: UInt64 { counts.values.reduce(0, +) }

    /// Both counts added, reason by reason.
    public func adding(_ other: DropCounters) -> DropCounters {
        var sum = self
        sum.counts.merge(other.counts, uniquingKeysWith: +)
        return sum
    }

    /// Non-zero counts, in the order of `DropReason.allCases`.
    public var nonZero: [(reason: DropReason, count: UInt64)] {
        DropReason.allCases.compactMap { reason in counts[reason].map { (reason, $0) } }
    }
}

/// A frame on its way to a peer, as the node's components hand it to `NodeCore`: where it goes
/// and what it is. How it travels follows from the frame alone (`Transport.of(_:datagramCapacity:)`),
/// decided in this one place when `NodeCore` packs frames into envelopes.
struct Outgoing: Sendable {
    var address: String
    var frame: Frame

    init(to address: String, _ frame: Frame) {
        self.address = address
        self.frame = frame
    }
}

/// How an envelope travels: as one datagram (may be lost; a later round makes it good) or over a
/// stream (TCP in the runtime: arrives, or the connection fails).
enum Transport: Sendable {
    case datagram
    case stream

    /// The one rule: a stream for what must arrive or may be large — a join and the full state
    /// that answers it, anti-entropy digests and their repairs, everything of the ring and the
    /// data, requests for missing bus events — and a datagram for the rest (probes and what rides
    /// on them, rumors, size exchanges, heartbeat vectors) unless the frame does not fit one.
    static func of(_ frame: Frame, datagramCapacity: Int) -> Transport {
        switch FrameType.owner(of: frame.type) {
        case .ring, .data, .eventRequest: return .stream
        case .membership where frame.type == FrameType.join || frame.type == FrameType.sync: return .stream
        case .gossip where frame.type == FrameType.digest || frame.type == FrameType.repair: return .stream
        default: return frame.encodedLength <= datagramCapacity ? .datagram : .stream
        }
    }
}

/// Every frame type of the protocol, in one registry so that no two components collide, and which
/// component owns each (`owner(of:)`): the node routes a frame to its owner's decoder by this
/// table, instead of trying each decoder in turn. Layouts are in docs/protocol.md.
public enum FrameType {
    // MARK: Envelope link

    /// "I do not know your certificate": the receiver attaches its certificate to its next
    /// envelope to the sender. Empty body. Sent after an `unknown_sender` drop.
    public static let certificateRequest: UInt8 = 0x01

    // MARK: Gossip (rumor mongering)

    public static let rumors: UInt8 = 0x10
    public static let feedback: UInt8 = 0x11
    public static let digest: UInt8 = 0x12
    public static let repair: UInt8 = 0x13

    // MARK: Size estimation

    /// Push-pull averaging: the caller's values.
    public static let sizeExchangeRequest: UInt8 = 0x20
    /// Push-pull averaging: the callee's values before it averaged (or a refusal).
    public static let sizeExchangeReply: UInt8 = 0x21
    /// Push-sum: half of the sender's (sum, weight) per instance.
    public static let pushSumShare: UInt8 = 0x22
    /// Push-sum: a share arrived (sent only when the share asked for it, to allow retries).
    public static let pushSumAcknowledge: UInt8 = 0x23

    // MARK: Membership (SWIM)

    public static let ping: UInt8 = 0x30
    public static let ack: UInt8 = 0x31
    public static let pingRequest: UInt8 = 0x32
    public static let nack: UInt8 = 0x33
    public static let join: UInt8 = 0x34
    public static let sync: UInt8 = 0x35
    public static let gossip: UInt8 = 0x36

    // MARK: Ring (Chord)

    public static let ringFindNext: UInt8 = 0x40
    public static let ringNext: UInt8 = 0x41
    public static let ringNeighborsRequest: UInt8 = 0x42
    public static let ringNeighbors: UInt8 = 0x43
    public static let ringNotify: UInt8 = 0x44

    // MARK: Data (pieces and replica maintenance)

    public static let dataStore: UInt8 = 0x50
    public static let dataStored: UInt8 = 0x51
    public static let dataFetch: UInt8 = 0x52
    public static let dataFetched: UInt8 = 0x53
    public static let dataDelete: UInt8 = 0x54
    public static let dataDeleted: UInt8 = 0x55
    public static let dataOffer: UInt8 = 0x56
    public static let dataOfferReply: UInt8 = 0x57

    // MARK: Clock synchronisation

    /// Clock sample request riding on a probe: t1.
    public static let clockProbe: UInt8 = 0x60
    /// Clock sample answer riding on an ack: t1, t2, t3.
    public static let clockAnswer: UInt8 = 0x61

    // MARK: Message bus

    /// Heartbeat vector push (and its pull answer).
    public static let heartbeatVector: UInt8 = 0x62
    /// Asks a peer for bus events this node is missing (answered with a gossip repair).
    public static let eventRequest: UInt8 = 0x63

    /// The component that decodes and handles a frame type.
    public enum Owner: String, Sendable, CaseIterable {
        case link, gossip, size, membership, ring, data, clock, heartbeatVector, eventRequest
    }

    /// Every frame type with its name and owner, in wire order.
    public static let all: [(type: UInt8, name: String, owner: Owner)] = [
        (certificateRequest, "certificateRequest", .link),
        (rumors, "rumors", .gossip), (feedback, "feedback", .gossip), (digest, "digest", .gossip),
        (repair, "repair", .gossip),
        (sizeExchangeRequest, "sizeExchangeRequest", .size), (sizeExchangeReply, "sizeExchangeReply", .size),
        (pushSumShare, "pushSumShare", .size), (pushSumAcknowledge, "pushSumAcknowledge", .size),
        (ping, "ping", .membership), (ack, "ack", .membership), (pingRequest, "pingRequest", .membership),
        (nack, "nack", .membership), (join, "join", .membership), (sync, "sync", .membership),
        (gossip, "gossip", .membership),
        (ringFindNext, "ringFindNext", .ring), (ringNext, "ringNext", .ring),
        (ringNeighborsRequest, "ringNeighborsRequest", .ring), (ringNeighbors, "ringNeighbors", .ring),
        (ringNotify, "ringNotify", .ring),
        (dataStore, "dataStore", .data), (dataStored, "dataStored", .data), (dataFetch, "dataFetch", .data),
        (dataFetched, "dataFetched", .data), (dataDelete, "dataDelete", .data), (dataDeleted, "dataDeleted", .data),
        (dataOffer, "dataOffer", .data), (dataOfferReply, "dataOfferReply", .data),
        (clockProbe, "clockProbe", .clock), (clockAnswer, "clockAnswer", .clock),
        (heartbeatVector, "heartbeatVector", .heartbeatVector), (eventRequest, "eventRequest", .eventRequest),
    ]

    /// The owner of each type byte, as a 256-entry table.
    private static let owners: [Owner?] = {
        var table = [Owner?](repeating: nil, count: 256)
        for entry in all { table[Int(entry.type)] = entry.owner }
        return table
    }()

    /// The component that owns `type`, or nil for a type no component knows (such a frame is
    /// ignored, as a newer peer's extension would be).
    public static func owner(of type: UInt8) -> Owner? { owners[Int(type)] }
}

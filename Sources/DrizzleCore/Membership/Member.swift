/// A member's state, as SWIM spreads it. The raw values are what `MB` prints and the wire carries.
public enum MemberState: UInt8, Hashable, Sendable, CustomStringConvertible {
    case alive = 0
    case suspect = 1
    case dead = 2
    /// Left gracefully (announced); like dead, but nobody failed.
    case left = 3

    public var description: String {
        switch self {
        case .alive: "alive"
        case .suspect: "suspect"
        case .dead: "dead"
        case .left: "left"
        }
    }

    /// Alive and suspect members take part (probed, counted, sent to); dead and left do not.
    public var isActive: Bool { self == .alive || self == .suspect }
}

/// One member of the view.
public struct Member: Hashable, Sendable {
    public var id: NodeID
    /// Where the member receives datagrams (`host:port`).
    public var address: String
    /// Only the member itself raises its incarnation, to refute suspicion.
    public var incarnation: UInt64
    public var state: MemberState
    /// The serial of the certificate the member announced.
    public var serial: UInt64
    /// When this node last changed the member's state.
    public var since: Instant

    public init(id: NodeID, address: String, incarnation: UInt64, state: MemberState, serial: UInt64, since: Instant) {
        self.id = id
        self.address = address
        self.incarnation = incarnation
        self.state = state
        self.serial = serial
        self.since = since
    }
}

/// A membership change as it travels in messages: who, which incarnation, what state, and for
/// suspicion and death who said so.
public struct MemberUpdate: Hashable, Sendable {
    public var id: NodeID
    public var incarnation: UInt64
    public var state: MemberState
    public var address: String
    public var serial: UInt64
    /// The member reporting a suspicion or death (for Lifeguard's independent confirmations).
    public var reporter: NodeID

    public init(id: NodeID, incarnation: UInt64, state: MemberState, address: String, serial: UInt64, reporter: NodeID) {
        self.id = id
        self.incarnation = incarnation
        self.state = state
        self.address = address
        self.serial = serial
        self.reporter = reporter
    }

    /// The update announcing `member` as it stands.
    public init(_ member: Member, reporter: NodeID) {
        self.init(
            id: member.id, incarnation: member.incarnation, state: member.state, address: member.address,
            serial: member.serial, reporter: reporter)
    }

    /// Encoded size: id 16, incarnation 8, state 1, serial 8, reporter 16, address length 1 + bytes.
    public var encodedLength: Int { 50 + min(255, address.utf8.count) }

    func write(to writer: inout ByteWriter) {
        writer.write(id.high)
        writer.write(id.low)
        writer.write(incarnation)
        writer.write(state.rawValue)
        writer.write(serial)
        writer.write(reporter.high)
        writer.write(reporter.low)
        let addressBytes = Array(address.utf8.prefix(255))
        writer.write(UInt8(addressBytes.count))
        writer.write(bytes: addressBytes)
    }

    /// The largest incarnation a message may carry. A member raises its incarnation by one per
    /// refutation, so no honest one comes near; refusing anything above keeps `incarnation + 1`
    /// (refuting a claim about oneself) from overflowing on a peer's say-so — the node fuzzer
    /// found that trap.
    public static let maximumIncarnation = UInt64(Int64.max)

    init?(reading reader: inout ByteReader) {
        guard let high = reader.readUInt64(), let low = reader.readUInt64(), let incarnation = reader.readUInt64(),
            incarnation <= Self.maximumIncarnation,
            let stateByte = reader.readUInt8(), let state = MemberState(rawValue: stateByte),
            let serial = reader.readUInt64(), let reporterHigh = reader.readUInt64(),
            let reporterLow = reader.readUInt64(), let length = reader.readUInt8(),
            let addressBytes = reader.readBytes(Int(length)),
            let address = String(validating: addressBytes, as: UTF8.self)
        else { return nil }
        self.init(
            id: NodeID(high: high, low: low), incarnation: incarnation, state: state, address: address, serial: serial,
            reporter: NodeID(high: reporterHigh, low: reporterLow))
    }
}

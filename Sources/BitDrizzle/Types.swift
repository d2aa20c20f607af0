import DrizzleCore
import DrizzleNode

/// When `BitDrizzleNode/events(_:)` hands an event over.
public enum EventDelivery: String, Sendable, Hashable, CaseIterable {
    /// Once stable, in the total order every node shares (the bus's guarantee): every node sees
    /// the same sequence, a little later than the events arrive.
    case totalOrder = "total"
    /// As soon as the event arrives, each once, in no common order: what Serf's user events give.
    case arrival
}

/// An event delivered by the bus: every live node delivers it once, in the same total order.
public struct Event: Sendable, Hashable {
    public var topic: String
    public var payload: [UInt8]
    /// The event's Lamport time: with `origin` breaking ties, its place in the total order.
    public var lamport: UInt64
    /// The publishing node's id (32 hex digits).
    public var origin: String
    /// The origin's run (its start, in Unix seconds): `sequence` counts within it.
    public var epoch: UInt32
    /// The event's number among its origin's events in the origin's current run, from 1.
    public var sequence: UInt64
    /// The publisher's synchronised clock when it published, nanoseconds since 1970
    /// (informational: the order never depends on it).
    public var physicalNanoseconds: Int64

    /// The payload as UTF-8 text, when it is.
    public var text: String? { String(validating: payload, as: UTF8.self) }

    init(_ event: BusEvent) {
        topic = event.topic
        payload = event.payload
        lamport = event.lamport
        origin = event.origin.description
        epoch = event.epoch
        sequence = event.sequence
        physicalNanoseconds = event.physical
    }

    /// The longest topic and the largest payload an event may carry, in bytes.
    public static let maximumTopicBytes = BusEvent.maximumTopicBytes
    public static let maximumPayloadBytes = BusEvent.maximumPayloadBytes
}

/// A member of the cluster as one node sees it.
public struct MemberInfo: Sendable, Hashable {
    public enum State: String, Sendable, Hashable {
        case alive, suspect, dead, left
    }

    /// The member's node id (32 hex digits).
    public var id: String
    /// Where it listens, `host:port`.
    public var address: String
    public var state: State
    /// Its incarnation number (raised each time it refutes a suspicion or rejoins).
    public var incarnation: UInt64
    /// The serial of the certificate it announced.
    public var serial: UInt64

    init(_ member: Member) {
        id = member.id.description
        address = member.address
        state = State(member.state)
        incarnation = member.incarnation
        serial = member.serial
    }
}

extension MemberInfo.State {
    init(_ state: MemberState) {
        switch state {
        case .alive: self = .alive
        case .suspect: self = .suspect
        case .dead: self = .dead
        case .left: self = .left
        }
    }
}

/// A change of one member's state; `previous` is nil for a member seen for the first time.
public struct MembershipChange: Sendable, Hashable {
    public var member: MemberInfo
    public var previous: MemberInfo.State?
}

/// The network size, two ways.
public struct SizeInfo: Sendable, Hashable {
    /// The gossip estimate (push-pull averaging), nil until the first epoch ends.
    public var estimate: Double?
    /// Alive and suspect members in this node's view, itself included.
    public var membersInView: Int
}

/// What a node believes about its clock (`CK` at the prompt).
public struct ClockInfo: Sendable, Hashable {
    /// This node's synchronised time, nanoseconds since 1970.
    public var synchronisedNanoseconds: Int64
    /// The cluster's time minus this node's synchronised time, in nanoseconds.
    public var offsetNanoseconds: Int64
    /// This node's raw clock rate against the cluster's, in parts per million.
    public var driftPPM: Double
    /// The largest difference between this node's and the recently sampled members' clocks, in nanoseconds.
    public var skewNanoseconds: Int64
    /// Members sampled recently.
    public var peersSampled: Int
    /// The correction added to the raw clock now, in nanoseconds.
    public var correctionNanoseconds: Int64
    /// Samples in the estimate's window.
    public var samples: Int
    /// Hops from the reference clock in reference mode (0 on the reference); nil otherwise.
    public var stratum: Int?
}

/// What this node and the live members hold of the cluster's keys (prompt `KS`): during a CA
/// rotation or after a revocation, how far the change has reached.
public struct KeyStatus: Sendable, Hashable {
    /// This node's certificate serial (16 hex digits) and its expiry, Unix seconds.
    public var serial: String
    public var notAfter: Int64
    /// The CAs this node trusts (key ids, 16 hex digits) and its revocation-list version (0: none).
    public var authorities: [String]
    public var revocationVersion: UInt64
    /// Alive members, this node included, and how many of them have announced their status.
    public var aliveMembers: Int
    public var reporting: Int
    /// How many reporting members trust each CA, and hold each revocation-list version.
    public var membersTrusting: [String: Int]
    public var membersHoldingVersion: [UInt64: Int]
}

/// Where a key lives on the ring.
public struct LookupInfo: Sendable, Hashable {
    /// The owner's id and address.
    public var owner: String
    public var ownerAddress: String
    /// The owner and its successors that hold copies (`data.replicas` of them), as `id` and `address`.
    public var replicas: [(id: String, address: String)]
    /// Remote nodes the lookup asked.
    public var hops: Int

    public static func == (lhs: LookupInfo, rhs: LookupInfo) -> Bool {
        lhs.owner == rhs.owner && lhs.ownerAddress == rhs.ownerAddress && lhs.hops == rhs.hops
            && lhs.replicas.elementsEqual(rhs.replicas) { $0.id == $1.id && $0.address == $1.address }
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(owner)
        hasher.combine(hops)
    }
}

/// Where data operations act: this node's own store, or the ring (every replica).
public enum DataScope: Sendable, Hashable {
    case local
    case network
}

/// A file written: the key to read it back with, and what it took.
public struct WriteResult: Sendable, Hashable {
    /// The manifest's key (32 hex digits).
    public var key: String
    public var bytes: UInt64
    public var pieces: Int
    /// Copies of each piece (1 for a local write).
    public var replicas: Int
    public var seconds: Double
}

/// A file read back: where it was written, and what it took.
public struct ReadResult: Sendable, Hashable {
    public var path: String
    public var bytes: UInt64
    public var pieces: Int
    /// Replicas found missing or damaged and repaired from a good copy while reading.
    public var repaired: Int
    public var seconds: Double
}

/// A file deleted: its keys (manifest and pieces), and the copies removed from replicas. A file
/// never shares a piece with another (each write salts its pieces), so deleting it leaves every
/// other file readable.
public struct DeleteResult: Sendable, Hashable {
    public var keys: Int
    public var removed: Int
    /// Pieces left in place because the file was written before salts, when its pieces may be
    /// another file's too (0 for files written since).
    public var keptShared: Int = 0
}

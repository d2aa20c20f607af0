/// Chord's finger table: entry `i` is the first node that succeeds `me + 2^i` on the ring.
/// Only entries learned so far are set; fix-fingers refreshes one entry per step.
public struct FingerTable: Sendable {
    public static let size = 128
    public let me: NodeID
    public private(set) var entries: [RingPeer?]
    /// The next entry fix-fingers refreshes.
    public internal(set) var next = 0

    public init(me: NodeID) {
        self.me = me
        entries = Array(repeating: nil, count: Self.size)
    }

    /// Where entry `index` starts: `me + 2^index`.
    public func start(_ index: Int) -> NodeID { me.advanced(byPowerOfTwo: index) }

    mutating func set(_ index: Int, to peer: RingPeer?) {
        guard entries.indices.contains(index) else { return }
        entries[index] = peer
    }

    /// Clears every entry pointing at `id` (a node that failed or left).
    mutating func remove(_ id: NodeID) {
        for index in entries.indices where entries[index]?.id == id { entries[index] = nil }
    }

    /// The distinct nodes the table points at, with the first entry that names each.
    public var distinct: [(index: Int, peer: RingPeer)] {
        var seen: Set<NodeID> = []
        var result: [(Int, RingPeer)] = []
        for (index, entry) in entries.enumerated() {
            if let entry, seen.insert(entry.id).inserted { result.append((index, entry)) }
        }
        return result
    }

    /// How many entries are set.
    public var filled: Int { entries.lazy.filter { $0 != nil }.count }
}

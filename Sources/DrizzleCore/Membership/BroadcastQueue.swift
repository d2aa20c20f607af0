/// Membership updates waiting to be piggybacked, as memberlist's TransmitLimitedQueue: one entry
/// per member (a newer update about a member replaces the older), least-transmitted and newest
/// first, each sent at most `limit.limit(clusterSize:)` times.
public struct BroadcastQueue: Sendable {
    private struct Entry: Sendable {
        var update: MemberUpdate
        var transmits: Int
        var order: UInt64
    }

    public var limit: TransmitLimit
    private var entries: [NodeID: Entry] = [:]
    private var inserted: UInt64 = 0

    public init(limit: TransmitLimit) { self.limit = limit }

    /// Updates still waiting to be sent.
    public var count: Int { entries.count }

    /// Queues `update`, replacing any older update about the same member.
    public mutating func enqueue(_ update: MemberUpdate) {
        inserted += 1
        entries[update.id] = Entry(update: update, transmits: 0, order: inserted)
    }

    /// Takes updates for one message, up to `budget` encoded bytes, counting the transmission.
    public mutating func take(budget: Int, clusterSize: Int) -> [MemberUpdate] {
        guard !entries.isEmpty, budget > 0 else { return [] }
        let maximum = limit.limit(clusterSize: clusterSize)
        let ordered = entries.values.sorted { ($0.transmits, $1.order) < ($1.transmits, $0.order) }
        var taken: [MemberUpdate] = []
        var bytes = 0
        for entry in ordered {
            let size = entry.update.encodedLength
            guard bytes + size <= budget else { continue }
            bytes += size
            taken.append(entry.update)
            let transmits = entry.transmits + 1
            if transmits >= maximum {
                entries[entry.update.id] = nil
            } else {
                entries[entry.update.id]?.transmits = transmits
            }
        }
        return taken
    }
}

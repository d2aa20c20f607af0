/// Anti-entropy summary: for each origin, the rumor sequence numbers a node holds, as ranges.
/// Origins number their rumors from 0 upward, so a digest is usually one range per origin.
public struct Digest: Hashable, Sendable {
    /// origin → sorted, disjoint, non-adjacent closed ranges of sequence numbers.
    public private(set) var ranges: [NodeID: [ClosedRange<UInt64>]] = [:]

    public init() {}

    /// The digest of a set of rumor ids.
    public init<IDs: Sequence<RumorID>>(_ ids: IDs) {
        var byOrigin: [NodeID: [UInt64]] = [:]
        for id in ids { byOrigin[id.origin, default: []].append(id.sequence) }
        for (origin, sequences) in byOrigin {
            var merged: [ClosedRange<UInt64>] = []
            for sequence in sequences.sorted() {
                if let last = merged.last, last.upperBound &+ 1 == sequence || last.contains(sequence) {
                    merged[merged.count - 1] = last.lowerBound...max(last.upperBound, sequence)
                } else {
                    merged.append(sequence...sequence)
                }
            }
            ranges[origin] = merged
        }
    }

    /// True when the digest covers `id`.
    public func contains(_ id: RumorID) -> Bool {
        ranges[id.origin]?.contains { $0.contains(id.sequence) } ?? false
    }

    /// The most origins and ranges a decoded digest may hold.
    static let maximumEntries = 1 << 20

    func write(to writer: inout ByteWriter) {
        writer.write(UInt32(ranges.count))
        for (origin, list) in ranges.sorted(by: { $0.key < $1.key }) {
            writer.write(origin.high)
            writer.write(origin.low)
            writer.write(UInt32(list.count))
            for range in list {
                writer.write(range.lowerBound)
                writer.write(range.upperBound)
            }
        }
    }

    init?(reading reader: inout ByteReader) {
        guard let origins = reader.readUInt32(), origins <= Digest.maximumEntries,
            Int(origins) <= reader.remaining / 20
        else { return nil }
        for _ in 0..<origins {
            guard let high = reader.readUInt64(), let low = reader.readUInt64(), let count = reader.readUInt32(),
                Int(count) <= reader.remaining / 16
            else { return nil }
            var list: [ClosedRange<UInt64>] = []
            for _ in 0..<count {
                guard let lower = reader.readUInt64(), let upper = reader.readUInt64(), lower <= upper else {
                    return nil
                }
                list.append(lower...upper)
            }
            ranges[NodeID(high: high, low: low)] = list
        }
    }
}

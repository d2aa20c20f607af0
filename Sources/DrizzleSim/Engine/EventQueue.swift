public import DrizzleCore

/// A binary min-heap of events ordered by (time, insertion order): events at the same instant run
/// in the order they were scheduled, so a run depends on nothing but its seed.
public struct EventQueue<Event>: Sendable where Event: Sendable {
    private struct Item: Sendable {
        var time: Instant
        var order: UInt64
        var event: Event
        func precedes(_ other: Item) -> Bool { (time, order) < (other.time, other.order) }
    }

    private var items: [Item] = []
    private var inserted: UInt64 = 0

    public init() {}

    public var count: Int { items.count }
    public var isEmpty: Bool { items.isEmpty }
    /// The time of the next event.
    public var nextTime: Instant? { items.first?.time }

    public mutating func schedule(_ event: Event, at time: Instant) {
        inserted += 1
        items.append(Item(time: time, order: inserted, event: event))
        var child = items.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard items[child].precedes(items[parent]) else { break }
            items.swapAt(child, parent)
            child = parent
        }
    }

    public mutating func pop() -> (time: Instant, event: Event)? {
        guard !items.isEmpty else { return nil }
        items.swapAt(0, items.count - 1)
        let item = items.removeLast()
        var parent = 0
        while true {
            let left = 2 * parent + 1
            let right = left + 1
            var smallest = parent
            if left < items.count, items[left].precedes(items[smallest]) { smallest = left }
            if right < items.count, items[right].precedes(items[smallest]) { smallest = right }
            if smallest == parent { break }
            items.swapAt(parent, smallest)
            parent = smallest
        }
        return (item.time, item.event)
    }
}

/// Fan-out of values to any number of `AsyncStream` subscribers (an actor owns one and calls it
/// from its isolation). A subscriber that stops listening is removed through `remove`, which the
/// owner schedules from the stream's termination.
public struct Broadcast<Element: Sendable>: Sendable {
    private var sinks: [Int: AsyncStream<Element>.Continuation] = [:]
    private var next = 0
    private var finished = false
    private let buffer: Int

    public init(buffer: Int) { self.buffer = buffer }

    /// A new subscription; `onEnd` receives its token when the subscriber goes away.
    public mutating func subscribe(onEnd: @escaping @Sendable (Int) -> Void) -> AsyncStream<Element> {
        let (stream, continuation) = AsyncStream<Element>.makeStream(bufferingPolicy: .bufferingNewest(buffer))
        guard !finished else {
            continuation.finish()
            return stream
        }
        next += 1
        let token = next
        sinks[token] = continuation
        continuation.onTermination = { _ in onEnd(token) }
        return stream
    }

    public func yield(_ element: Element) {
        for sink in sinks.values { sink.yield(element) }
    }

    public mutating func remove(_ token: Int) { sinks[token] = nil }

    /// Ends every subscription, and every later one at once.
    public mutating func finish() {
        finished = true
        for sink in sinks.values { sink.finish() }
        sinks = [:]
    }
}

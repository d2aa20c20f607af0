public import BitDrizzle
import Foundation
public import Logging

/// Runs a program for every delivered event, like Serf's event handlers: `/bin/sh -c PROGRAM`
/// with the payload on standard input and the event described in the environment
/// (`DRIZZLE_EVENT_TOPIC`, `DRIZZLE_EVENT_LAMPORT`, `DRIZZLE_EVENT_ORIGIN`, `DRIZZLE_EVENT_SEQUENCE`,
/// `DRIZZLE_EVENT_EPOCH`, `DRIZZLE_EVENT_PHYSICAL_NS`, `DRIZZLE_NODE`). One event at a time, in
/// delivery order, so the program sees the total order; a failing run is logged and the next
/// event still runs.
public struct EventHandler: Sendable {
    public let program: String
    public let node: String

    public init(program: String, node: String) {
        self.program = program
        self.node = node
    }

    /// The environment a run gets: the node's own, plus the event.
    public func environment(for event: Event) -> [String: String] {
        var environment = ProcessInfo.processInfo.environment
        environment["DRIZZLE_EVENT_TOPIC"] = event.topic
        environment["DRIZZLE_EVENT_LAMPORT"] = String(event.lamport)
        environment["DRIZZLE_EVENT_ORIGIN"] = event.origin
        environment["DRIZZLE_EVENT_SEQUENCE"] = String(event.sequence)
        environment["DRIZZLE_EVENT_EPOCH"] = String(event.epoch)
        environment["DRIZZLE_EVENT_PHYSICAL_NS"] = String(event.physicalNanoseconds)
        environment["DRIZZLE_NODE"] = node
        return environment
    }

    /// Runs the program for each event of `events` until the stream ends.
    public func serve(_ events: AsyncStream<Event>, logger: Logger) async {
        for await event in events {
            do {
                let status = try await run(event)
                if status != 0 {
                    logger.warning(
                        "event handler failed", metadata: ["status": "\(status)", "topic": "\(event.topic)", "lamport": "\(event.lamport)"])
                }
            } catch {
                logger.error("event handler could not start: \(error)", metadata: ["program": "\(program)"])
            }
        }
    }

    /// One run; returns the program's exit status.
    public func run(_ event: Event) async throws -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", program]
        process.environment = environment(for: event)
        let input = Pipe()
        process.standardInput = input
        let finished = AsyncStream<Int32>.makeStream()
        process.terminationHandler = { finished.continuation.yield($0.terminationStatus) }
        // A program that does not read its input must not stop the node: a closed pipe is ignored.
        signal(SIGPIPE, SIG_IGN)
        try process.run()
        try? input.fileHandleForWriting.write(contentsOf: Data(event.payload))
        try? input.fileHandleForWriting.close()
        for await status in finished.stream { return status }
        return process.terminationStatus
    }
}

import ArgumentParser
import BitDrizzle
import DrizzleTerminal
import Foundation
import Logging

/// `drizzle-chat`: a chat room on the BitDrizzle bus. Every line typed in any process is shown
/// in every process in the same order (the bus's Lamport total order), whatever the clocks say.
///
///     drizzle-chat --name alice --bind 127.0.0.1:47500
///     drizzle-chat --name bob --join 127.0.0.1:47500
///
/// `Examples/Chat/demo.sh` starts three of them with scripted lines and compares what they show.
@main
struct Chat: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "drizzle-chat", abstract: "A chat room on the BitDrizzle bus: every line, in one order, everywhere.")

    @Option(help: "Your name (and the node's: its key is <keys-dir>/nodes/<name>.key, issued on first use).")
    var name: String

    @Option(help: "Where this node listens, host:port (port 0 picks one).")
    var bind = "127.0.0.1:0"

    @Option(help: "A member to join through, host:port. Without it, this node starts the room.")
    var join: String?

    @Option(name: .customLong("keys-dir"), help: "Key folder shared by the room's processes (a development CA is made there on first use).")
    var keysDirectory = "chat-keys"

    @Option(name: .customLong("data-dir"), help: "Data folder.")
    var dataDirectory = "chat-data"

    @Option(help: "After the end of input, wait until this many lines were shown (at most 30 s), then leave.")
    var expect: Int?

    static func main() async {
        StandardStreams.prepare()
        await main(nil)
    }

    func run() async throws {
        try BitDrizzleNode.issueDevelopmentKeys(for: [name], in: keysDirectory)
        var configuration = DrizzleConfiguration.defaults
        configuration.keys.directory = keysDirectory
        configuration.data.directory = dataDirectory
        configuration.net.seeds = []
        let node = BitDrizzleNode(
            configuration: configuration, name: name, bind: bind, seeds: join.map { [$0] } ?? [],
            logger: Logger(label: "chat") { _ in SwiftLogNoOpLogHandler() })
        let events = await node.events()
        try await node.start()
        StandardStreams.note("\(name) in the room at \(await node.address ?? "?"); type lines, Ctrl-D leaves")
        let shown = Counter()
        let printer = Task {
            for await event in events where event.topic == "chat" {
                StandardStreams.say("[\(event.lamport)] \(event.text ?? "<binary>")")
                await shown.increment()
            }
        }
        // Ctrl-C, SIGTERM or a reader gone (`drizzle-chat … | head`) end the typing, then the node
        // leaves the room as at the end of input.
        let typing = Task {
            for await line in Self.standardInputLines() where !line.isEmpty {
                do {
                    try await node.publish(topic: "chat", text: "\(name): \(line)")
                } catch {
                    StandardStreams.note("not sent: \(error)")
                }
            }
        }
        StopRequests.shared.install()
        let stopping = Task {
            _ = await StopRequests.shared.next()
            typing.cancel()
        }
        await typing.value
        stopping.cancel()
        if let expect {
            let deadline = ContinuousClock.now + .seconds(30)
            while await shown.value < expect, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(50)) }
        }
        await node.stop()
        printer.cancel()
    }

    /// Standard input's lines, read on a thread of their own so no task blocks on the terminal.
    static func standardInputLines() -> AsyncStream<String> {
        AsyncStream { continuation in
            let thread = Thread {
                while let line = readLine() { continuation.yield(line) }
                continuation.finish()
            }
            thread.start()
        }
    }
}

actor Counter {
    private(set) var value = 0
    func increment() { value += 1 }
}

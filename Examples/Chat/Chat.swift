import ArgumentParser
import BitDrizzle
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
        FileHandle.standardError.write(Data("\(name) in the room at \(await node.address ?? "?"); type lines, Ctrl-D leaves\n".utf8))
        let shown = Counter()
        let printer = Task {
            for await event in events where event.topic == "chat" {
                FileHandle.standardOutput.write(Data("[\(event.lamport)] \(event.text ?? "<binary>")\n".utf8))
                await shown.increment()
            }
        }
        for await line in Self.standardInputLines() where !line.isEmpty {
            do {
                try await node.publish(topic: "chat", text: "\(name): \(line)")
            } catch {
                FileHandle.standardError.write(Data("not sent: \(error)\n".utf8))
            }
        }
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

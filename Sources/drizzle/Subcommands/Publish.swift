import ArgumentParser
import DrizzleConfig
import DrizzleCore
import DrizzleNode
import DrizzlePrompt
import DrizzleTerminal
import Foundation
import NIOPosix

/// The control socket a client subcommand talks to: `--socket`, else the configured local node's.
struct SocketOptions: ParsableArguments {
    @Option(help: "The node's control socket. Default: <data.dir>/node-<peer_base_port>.sock.")
    var socket: String?

    @Option(help: "Configuration file (YAML), for the default socket path.")
    var config: String?

    func path() throws -> String {
        if let socket { return socket }
        let loaded = try loadConfiguration(file: config, flags: [])
        return PromptSession.controlPath(for: "node-\(loaded.node.peerBasePort)", in: loaded)
    }
}

/// `drizzle publish`: publish one event through a running node.
struct Publish: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Publish an event through a running node (its control socket); every node delivers it in one total order.")

    @OptionGroup var target: SocketOptions

    @Argument(help: "The event's topic (at most \(BusEvent.maximumTopicBytes) bytes).")
    var topic: String

    @Argument(help: "The payload (at most \(BusEvent.maximumPayloadBytes) bytes). Omitted or '-': read standard input.")
    var payload: String?

    func run() async throws {
        let path = try target.path()
        var text = payload ?? "-"
        if text == "-" {
            let data = FileHandle.standardInput.readDataToEndOfFile()
            guard let input = String(data: data, encoding: .utf8) else {
                throw fail("standard input is not UTF-8 text: pass the payload as an argument")
            }
            text = input.hasSuffix("\n") ? String(input.dropLast()) : input
        }
        guard !text.isEmpty else { throw fail("the payload is empty: pass it as an argument or on standard input") }
        guard !topic.contains(where: \.isWhitespace) else { throw fail("the topic '\(topic)' contains spaces: use one word") }
        let response: ControlResponse
        do {
            response = try await ControlSocket.send("PUB \(topic) \(text)", to: path, group: MultiThreadedEventLoopGroup.singleton)
        } catch {
            throw fail("\(error)")
        }
        if let error = response.error { throw fail(error) }
        let line = response.lines.joined(separator: "\n")
        guard line.hasPrefix("published") else { throw fail(line) }
        say(line)
    }
}

/// `drizzle events`: follow a running node's delivered events.
struct Events: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print the events a running node delivers, in total order, as they arrive.")

    @OptionGroup var target: SocketOptions

    @Option(help: "Only this topic. Default: every topic.")
    var topic = "*"

    @Option(help: "Stop after this many events. Default: follow until interrupted.")
    var count: Int?

    @Flag(help: "Print each event as a JSON line (payload base64 and, when UTF-8, as text).")
    var json = false

    func run() async throws {
        let path = try target.path()
        if let count, count < 1 { throw fail("--count must be at least 1") }
        let (json, count, topic) = (json, count, topic)
        // The stream ends at the count, or when the reader of the output goes away (`drizzle
        // events | head -1`: noticed at once, not at the next event), or on SIGINT/SIGTERM.
        StopRequests.shared.install()
        let following = Task {
            var seen = 0
            try await ControlSocket.follow(topic, at: path, group: MultiThreadedEventLoopGroup.singleton) { event in
                if json, let data = try? JSONEncoder().encode(event), let line = String(data: data, encoding: .utf8) {
                    say(line)
                } else {
                    say("\(event.lamport) \(event.origin) \(event.topic) \(event.text ?? "<\(event.payload)>")")
                }
                seen += 1
                guard !StandardStreams.isReaderGone else { return false }
                return count.map { seen < $0 } ?? true
            }
        }
        let stopping = Task {
            _ = await StopRequests.shared.next()
            following.cancel()
        }
        defer { stopping.cancel() }
        do {
            try await following.value
        } catch is CancellationError {
            return
        } catch {
            if following.isCancelled { return }
            throw fail("\(error)")
        }
    }
}

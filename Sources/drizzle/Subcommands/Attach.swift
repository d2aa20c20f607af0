import ArgumentParser
import DrizzleConfig
import DrizzleNode
import DrizzlePrompt
import DrizzleTerminal
import Foundation
import NIOPosix

/// `drizzle attach`: the prompt on an already running node, through its control socket.
struct Attach: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Open the prompt on a running node through its control socket (X detaches).")

    @Argument(help: "The control socket. Default: <data.dir>/node-<peer_base_port>.sock.")
    var socket: String?

    @Option(help: "Configuration file (YAML), for the default socket path.")
    var config: String?

    func run() async throws {
        let loaded = try loadConfiguration(file: config, flags: [])
        let path = socket ?? PromptSession.controlPath(for: "node-\(loaded.node.peerBasePort)", in: loaded)
        let group = MultiThreadedEventLoopGroup.singleton
        do {
            let hello = try await ControlSocket.send("LL", to: path, group: group)
            for line in hello.lines { say(line) }
        } catch {
            throw fail("\(error)")
        }
        let console = Console(prompt: "Enter a command or type H for help:")
        StopRequests.shared.install()
        // Ctrl-C at an empty line, Ctrl-D, SIGTERM or a reader gone detach; the node keeps running.
        let stops = Task {
            for await request in StopRequests.shared.requests {
                if request == .interrupt { console.interrupt() } else { console.stop() }
            }
        }
        defer { stops.cancel() }
        while case .line(let line) = await console.next() {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty { continue }
            if trimmed.uppercased() == "X" { break }
            do {
                let response = try await ControlSocket.send(trimmed, to: path, group: group)
                for output in response.lines { say(output) }
                if let error = response.error { say(error) }
            } catch {
                throw fail("\(error)")
            }
            if StandardStreams.isReaderGone { return }
        }
        say("detached from \(path); the node keeps running")
    }
}

import ArgumentParser
import DrizzleConfig
import DrizzleNode
import DrizzlePrompt
import Foundation
import Logging

/// `drizzle cluster`: multi mode without the prompt — `net_size` nodes in one process on loopback
/// until SIGINT or SIGTERM. Each node's control socket accepts `drizzle attach`.
struct Cluster: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run net_size nodes in this process (multi mode, no prompt) until interrupted.")

    @Option(help: "Nodes to run. Default: net.size (24).")
    var nodes: Int?

    @Option(help: "Configuration file (YAML). Default: config/default.yaml when it exists.")
    var config: String?

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical.")
    var logLevel: String = "warning"

    @Option(name: .customLong("event-handler"), help: "Run this shell command for every delivered event (payload on stdin, DRIZZLE_EVENT_* in the environment).")
    var eventHandler: String?

    @Option(name: .customLong("event-order"), help: "When the handler runs: total (the bus's total order, once stable) or arrival (at once, no common order, as Serf).")
    var eventOrder: EventOrderOption = .total

    @Argument(parsing: .allUnrecognized, help: "Setting flags, e.g. --net-size 6 --gossip-interval-ms 100 (docs/configuration.md).")
    var settings: [String] = []

    func run() async throws {
        var loaded = try loadConfiguration(file: config, flags: settings)
        if let nodes {
            guard (1...1000).contains(nodes) else { throw fail("--nodes must be from 1 to 1000") }
            loaded.net.size = nodes
        }
        try bootstrapLogging(logLevel)
        let session = try await startSession(loaded, label: "drizzle.cluster")
        if let eventHandler {
            for line in await session.runEventHandler(eventHandler, delivery: eventOrder.delivery) { say(line) }
        }
        for line in await session.run(.multiMode).lines { say(line) }
        say("running; Ctrl-C stops every node (drizzle attach to inspect one)")
        await waitForTermination()
        say((await session.run(.exit)).lines.joined(separator: "\n"))
    }
}

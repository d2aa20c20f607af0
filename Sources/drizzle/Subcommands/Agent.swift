import ArgumentParser
import Dispatch
import DrizzleConfig
import DrizzleCore
import BitDrizzle
import DrizzleNode
import DrizzlePrompt
import DrizzleTerminal
import Foundation
import Logging
import NIOPosix

/// `drizzle agent`: one node, no prompt, until SIGINT or SIGTERM (then a graceful leave).
struct Agent: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run one node (no prompt) until interrupted; leaves the cluster gracefully on SIGINT/SIGTERM.")

    @Option(help: "The node's name: its key and certificate are <keys-dir>/nodes/<name>.key|.crt.")
    var name: String

    @Option(help: "Configuration file (YAML). Default: config/default.yaml when it exists.")
    var config: String?

    @Option(help: "Address to listen on (UDP and TCP), host:port. Default: node.host and node.peer_base_port.")
    var bind: String?

    @Option(help: "Address peers should use, host:port, when it differs from --bind.")
    var advertise: String?

    @Option(help: "Seeds to join through, host:port, comma-separated. Default: net.seeds.")
    var join: String?

    @Option(name: .customLong("keys-dir"), help: "Key folder. Default: keys.dir.")
    var keysDirectory: String?

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical.")
    var logLevel: String = "info"

    @Option(help: "Serve Prometheus metrics at http://HOST:PORT/metrics. Default: metrics.listen (empty: off).")
    var metrics: String?

    @Option(name: .customLong("impair-delay-ms"), help: "Test impairment: delay every outgoing datagram (ms).")
    var impairDelay = 0.0

    @Option(name: .customLong("impair-jitter-ms"), help: "Test impairment: ± uniform jitter on that delay (ms).")
    var impairJitter = 0.0

    @Option(name: .customLong("impair-loss"), help: "Test impairment: drop this fraction of outgoing datagrams.")
    var impairLoss = 0.0

    @Option(name: .customLong("event-handler"), help: "Run this shell command for every delivered event (payload on stdin, DRIZZLE_EVENT_* in the environment).")
    var eventHandler: String?

    @Option(name: .customLong("event-order"), help: "When the handler runs: total (the bus's total order, once stable) or arrival (at once, no common order, as Serf).")
    var eventOrder: EventOrderOption = .total

    @Argument(parsing: .allUnrecognized, help: "Setting flags, e.g. --membership-probe-interval-ms 500.")
    var settings: [String] = []

    func run() async throws {
        let loaded = try loadConfiguration(file: config, flags: settings)
        guard impairDelay >= 0, impairJitter >= 0, impairJitter <= impairDelay || impairDelay == 0, (0..<1).contains(impairLoss)
        else { throw fail("impairment: delay and jitter must be ≥ 0 (jitter ≤ delay), loss in [0, 1)") }
        let addresses = try AgentAddresses.check(
            bind: bind, advertise: advertise, join: join, metrics: metrics, configuration: loaded)
        try bootstrapLogging(logLevel)
        let logger = Logger(label: "drizzle.agent")
        var options = NodeOptions(
            configuration: loaded, name: name, bindHost: addresses.bind.host, bindPort: addresses.bind.port,
            seeds: addresses.seeds)
        options.advertise = addresses.advertise
        if let keysDirectory { options.keysDirectory = keysDirectory }
        options.impairment = Impairment(delayMilliseconds: impairDelay, jitterMilliseconds: impairJitter, loss: impairLoss)
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let node = BitDrizzleNode(options: options, configuration: loaded, logger: logger)
        do {
            try await node.start()
        } catch {
            try? await group.shutdownGracefully()
            if case .cannotStart(let reason) = error { throw fail(reason) }
            throw fail(error.description)
        }
        guard let runtime = await node.runtime else { throw fail("the node stopped while starting") }
        StandardStreams.write("drizzle agent \(name) listening on \(runtime.address), id \(runtime.id)\n", to: .error)
        var metricsServer: MetricsServer?
        if let metricsAddress = addresses.metrics {
            let exposition = runtime.metrics
            do {
                metricsServer = try await MetricsServer.start(at: metricsAddress, group: group) { exposition.exposition() }
                StandardStreams.write("drizzle agent \(name): metrics at http://\(metricsAddress)/metrics\n", to: .error)
            } catch {
                await node.stop(gracefully: false)
                throw fail(error.description)
            }
        }
        let session = PromptSession(configuration: loaded, logger: logger)
        var started = await session.adopt(node)
        if let eventHandler { started += await session.runEventHandler(eventHandler, delivery: eventOrder.delivery) }
        for line in started { StandardStreams.write("drizzle agent \(name): \(line)\n", to: .error) }
        await waitForTermination()
        await session.stopAll()
        await metricsServer?.close()
        try? await group.shutdownGracefully()
    }
}

/// Returns at the first SIGINT or SIGTERM, or when the reader of standard output or error went
/// away (`drizzle agent … 2>&1 | head -3`): the caller then stops its nodes gracefully.
@discardableResult
func waitForTermination() async -> StopRequest {
    StopRequests.shared.install()
    return await StopRequests.shared.next()
}

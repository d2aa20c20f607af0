import ArgumentParser
import DrizzleCore
import DrizzleNode
import DrizzleSim
import Foundation

/// `drizzle sim order`: the bus's total order with concurrent publishers, wrong clocks and loss.
struct SimOrder: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "order",
        abstract: "Total order (Lamport, heartbeat vector): agreement, delivery latency, order vs physical timestamps.")

    @Option(help: "Nodes in the simulated cluster.")
    var nodes = 1000

    @Option(help: "Nodes that publish (chosen by the seed).")
    var publishers = 50

    @Option(help: "Events published in all.")
    var events = 10_000

    @Option(help: "Events published per second, cluster-wide.")
    var rate = 100.0

    @Option(help: "Datagram loss rate in [0, 1).")
    var loss = 0.05

    @Option(name: .customLong("clock-offset-s"), help: "Each clock is off by an offset uniform in ± this many seconds.")
    var clockOffsetSeconds = 5.0

    @Flag(name: .customLong("crash-publisher"), help: "One publisher crashes once half the events are out.")
    var crashPublisher = false

    @Option(
        name: .customLong("vector-ms"),
        help: "Milliseconds between heartbeat-vector exchanges (the node's default: every gossip round, 200).")
    var vectorMilliseconds = 200

    @Option(help: "Seconds to wait after the last publish before giving up.")
    var timeout = 300.0

    @OptionGroup var experiment: ExperimentOptions

    func run() async throws {
        guard (2...100_000).contains(nodes) else { throw fail("--nodes must be from 2 to 100,000") }
        guard (1...nodes).contains(publishers) else { throw fail("--publishers must be from 1 to --nodes (\(nodes))") }
        guard !crashPublisher || publishers >= 2 else { throw fail("--crash-publisher needs --publishers 2 or more") }
        guard (1...1_000_000).contains(events) else { throw fail("--events must be from 1 to 1,000,000") }
        guard rate > 0, rate <= 100_000 else { throw fail("--rate must be in (0, 100,000] events per second") }
        guard (0..<1).contains(loss) else { throw fail("--loss must be in [0, 1)") }
        guard clockOffsetSeconds >= 0, clockOffsetSeconds <= 3600 else {
            throw fail("--clock-offset-s must be from 0 to 3,600 seconds")
        }
        guard (10...60_000).contains(vectorMilliseconds) else { throw fail("--vector-ms must be from 10 to 60,000") }
        guard timeout > 0, timeout <= 3600 else { throw fail("--timeout must be in (0, 3600] seconds") }

        var setup = OrderExperiment()
        setup.nodes = nodes
        setup.publishers = publishers
        setup.events = events
        setup.ratePerSecond = rate
        setup.lossRate = loss
        setup.clockOffsetSeconds = clockOffsetSeconds
        setup.crashPublisher = crashPublisher
        setup.vectorIntervalNanoseconds = Int64(vectorMilliseconds) * 1_000_000
        setup.timeoutSeconds = timeout
        setup.seed = experiment.seed
        setup.signed = !experiment.noCrypto

        let result = timed(1, "rounds") { progress in setup.run(progress: progress) }

        func row(_ name: String, _ latency: OrderExperiment.Latency?) -> [String] {
            guard let latency else { return [name, "-", "-", "-", "-"] }
            return [name] + [latency.p50, latency.p90, latency.p99, latency.maximum].map { fixed($0, 3) }
        }
        let table = Table(
            header: ["latency", "p50_s", "p90_s", "p99_s", "max_s"],
            rows: [
                row("publish_to_delivery", result.delivery), row("publish_to_arrival", result.arrival),
                row("arrival_to_delivery", result.stabilityWait), row("vector_wait", result.vectorWait),
            ])
        func inversions(_ name: String, _ value: OrderExperiment.Inversions) -> String {
            let share = result.pairs > 0 ? Double(value.pairs) / Double(result.pairs) * 100 : 0
            return "\(name) \(value.pairs) (\(String(format: "%.2f", share))%, largest gap \(fixed(value.largestGapSeconds, 3)) s)"
        }
        var delivered =
            "delivered: \(result.deliveredLow)"
            + (result.deliveredHigh != result.deliveredLow ? " to \(result.deliveredHigh)" : "")
            + " events per live node of \(result.published) published"
        if let crashed = result.crashed {
            // What the survivors delivered of the crashed node's events; the rest reached none of them.
            let survived = result.deliveredLow - (result.published - result.publishedByCrashed)
            delivered +=
                "; node \(crashed) crashed after publishing \(result.publishedByCrashed), "
                + "\(result.publishedByCrashed - survived) of them reached no survivor"
        }
        if !result.complete { delivered += " — INCOMPLETE after \(fixed(timeout, 0)) s" }
        let notes = [
            "order: n=\(nodes) publishers=\(publishers) events=\(events) rate=\(rate)/s loss=\(loss) "
                + "clock-offset=±\(clockOffsetSeconds)s sync=off vector=\(vectorMilliseconds)ms "
                + "gossip=200ms fanout=3 anti-entropy=10s" + (crashPublisher ? " crash-publisher" : ""),
            experiment.noCrypto
                ? "crypto: OFF (--no-crypto): datagrams are encoded but not signed"
                : "crypto: every datagram signed and verified with Ed25519",
            "seed: \(experiment.seed)   rerun: drizzle sim order \(CommandLine.arguments.dropFirst(3).joined(separator: " "))",
            "agreement: \(result.agreeing)/\(result.liveNodes) live nodes delivered the same sequence (hash of the first live node's)",
            delivered,
            "out of order: \(result.outOfOrder) deliveries; late: \(result.late) events" + (result.refusals.isEmpty ? "" : "; refused publishes: \(result.refusals.count) (\(result.refusals[0]))"),
            "inversions against the true publish order, of \(result.pairs) pairs: "
                + inversions("Lamport", result.lamport) + "; " + inversions("physical timestamps", result.physical),
            "warm-up \(fixed(result.warmupSeconds, 1)) s; all delivered \(fixed(result.drainSeconds, 1)) s after the last publish; "
                + "\(result.datagrams) datagrams (\(result.datagramsLost) lost), \(result.bytes / 1_000_000) MB",
            "latency: true time, over every (live node, event); vector_wait: from holding the event and all before it to delivery",
        ]
        emit(table: table, notes: notes, format: experiment.output.format)
        if let folder = experiment.out {
            // Cumulative fractions every 100 ms.
            func cumulative(_ histogram: [Int]) -> [Double] {
                let total = Double(max(1, histogram.reduce(0, +)))
                var running = 0
                var points: [Double] = []
                for (slot, value) in histogram.enumerated() {
                    running += value
                    if (slot + 1) % 100 == 0 { points.append(Double(running) / total) }
                }
                points.append(Double(running) / total)
                return points
            }
            let delivery = cumulative(result.deliveryHistogram)
            let arrival = cumulative(result.arrivalHistogram)
            let steps = max(delivery.count, arrival.count)
            let cdf = Table(
                header: ["latency_s", "arrived_fraction", "delivered_fraction"],
                rows: (0..<steps).map { step in
                    [
                        fixed(Double(step + 1) / 10, 1), fixed(arrival[min(step, arrival.count - 1)], 5),
                        fixed(delivery[min(step, delivery.count - 1)], 5),
                    ]
                })
            let plot = SVGPlot(
                title: "Bus latency, n=\(nodes), \(publishers) publishers, \(Int(rate)) events/s, loss \(loss)",
                xLabel: "seconds after publishing (true time)", yLabel: "fraction of (node, event) pairs",
                series: [
                    SVGPlot.Series(
                        name: "arrived", points: arrival.enumerated().map { (Double($0.offset + 1) / 10, $0.element) },
                        dashed: true),
                    SVGPlot.Series(
                        name: "delivered in order",
                        points: delivery.enumerated().map { (Double($0.offset + 1) / 10, $0.element) }),
                ])
            try write(folder: folder, name: "order", table: cdf, plot: plot)
        }
    }
}

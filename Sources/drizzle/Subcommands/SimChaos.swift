import DrizzleNode
import ArgumentParser
import DrizzleSim
import Foundation

/// `drizzle sim chaos`: the multi-host chaos test (loss, crashes and restarts, a healed 50/50
/// partition, events published throughout) on the simulator.
struct SimChaos: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "chaos",
        abstract: "Loss, kill -9 and restarts, a 30 s 50/50 partition: membership reconvergence, flapping, event order.")

    @Option(help: "Nodes in the simulated cluster.")
    var nodes = 12

    @Option(help: "Loss rates, comma-separated, each in [0, 1).")
    var loss = "0,0.05,0.1,0.2"

    @Option(help: "Seconds to watch membership after the chaos (agreement must last to the end).")
    var observe = 120.0

    @OptionGroup var experiment: ExperimentOptions

    func run() async throws {
        let rates = try lossRates(loss)
        guard (6...10_000).contains(nodes) else { throw fail("--nodes must be from 6 to 10,000") }
        guard observe > 0, observe <= 3600 else { throw fail("--observe must be in (0, 3600] seconds") }

        var setup = ChaosExperiment()
        setup.nodes = nodes
        setup.lossRates = rates
        setup.seed = experiment.seed
        setup.signed = !experiment.noCrypto
        setup.observeSeconds = observe

        let rows = timed(rates.count, "runs") { progress in setup.run(progress: progress) }

        let table = Table(
            header: [
                "loss", "reconverged_s", "false_deaths", "published", "delivered_anywhere", "delivered_min", "delivered_max",
                "pairs",
                "disagreeing_pairs", "datagrams",
            ],
            rows: rows.map { row in
                [
                    fixed(row.loss, 2), row.reconverged.map { fixed($0, 1) } ?? "never", String(row.falseDeaths),
                    String(row.published), String(row.deliveredAnywhere), String(row.deliveredLow), String(row.deliveredHigh), String(row.pairs),
                    String(row.disagreeingPairs), String(row.datagrams),
                ]
            })
        let notes = [
            "chaos: n=\(nodes) latency=50±10ms probe=0.5s timeout=0.25s; crashes at 5,20,30,50,60 s (back 5 s later),"
                + " partition 15–45 s, one event per 100 ms until 75 s; observe=\(observe)s",
            experiment.noCrypto
                ? "crypto: OFF (--no-crypto): datagrams are encoded but not signed"
                : "crypto: every datagram signed and verified with Ed25519",
            "seed: \(experiment.seed)   rerun: drizzle sim chaos \(CommandLine.arguments.dropFirst(3).joined(separator: " "))",
        ]
        emit(table: table, notes: notes, format: experiment.output.format)
        if let folder = experiment.out {
            let plot = SVGPlot(
                title: "Chaos, n=\(nodes): membership reconvergence", xLabel: "loss rate",
                yLabel: "seconds after the chaos",
                series: [
                    SVGPlot.Series(
                        name: "every node lists every node alive",
                        points: rows.compactMap { row in row.reconverged.map { (row.loss, $0) } })
                ])
            try write(folder: folder, name: "chaos", table: table, plot: plot)
        }
    }
}

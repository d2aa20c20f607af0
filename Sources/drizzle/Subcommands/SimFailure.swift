import DrizzleNode
import ArgumentParser
import DrizzleSim
import Foundation

/// `drizzle sim failure`: SWIM's detection time and false positives vs loss, with and without Lifeguard.
struct SimFailure: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "failure",
        abstract: "One node crashes: detection time, dissemination time, false suspicions and deaths vs loss.")

    @Option(help: "Nodes in the simulated cluster.")
    var nodes = 1000

    @Option(help: "Loss rates, comma-separated, each in [0, 1).")
    var loss = "0,0.05,0.1,0.2"

    @Option(help: "on, off or both.")
    var lifeguard = "both"

    @Option(help: "Seconds to observe after the crash before giving up.")
    var observe = 120.0

    @OptionGroup var experiment: ExperimentOptions

    func run() async throws {
        let rates = try lossRates(loss)
        let settings: [Bool]
        switch lifeguard {
        case "on": settings = [true]
        case "off": settings = [false]
        case "both": settings = [true, false]
        default: throw fail("unknown --lifeguard '\(lifeguard)': use on, off or both")
        }
        guard (3...100_000).contains(nodes) else { throw fail("--nodes must be from 3 to 100,000") }
        guard observe > 0, observe <= 3600 else { throw fail("--observe must be in (0, 3600] seconds") }

        var setup = FailureExperiment()
        setup.nodes = nodes
        setup.lossRates = rates
        setup.lifeguardSettings = settings
        setup.seed = experiment.seed
        setup.signed = !experiment.noCrypto
        setup.observeSeconds = observe

        let rows = timed(rates.count * settings.count, "runs") { progress in setup.run(progress: progress) }

        let table = Table(
            header: ["loss", "lifeguard", "first_detection_s", "full_dissemination_s", "false_suspicions", "false_deaths"],
            rows: rows.map { row in
                [
                    fixed(row.loss, 2), row.lifeguard ? "on" : "off", row.firstDetection.map { fixed($0, 1) } ?? "never",
                    row.fullDissemination.map { fixed($0, 1) } ?? "never", String(row.falseSuspicions),
                    String(row.falseDeaths),
                ]
            })
        let notes = [
            "failure: n=\(nodes) loss=\(loss) lifeguard=\(lifeguard) probe=1s timeout=0.5s k=3 suspicion_mult=4 observe=\(observe)s",
            experiment.noCrypto
                ? "crypto: OFF (--no-crypto): datagrams are encoded but not signed"
                : "crypto: every datagram signed and verified with Ed25519",
            "seed: \(experiment.seed)   rerun: drizzle sim failure \(CommandLine.arguments.dropFirst(3).joined(separator: " "))",
        ]
        emit(table: table, notes: notes, format: experiment.output.format)
        if let folder = experiment.out {
            var series: [SVGPlot.Series] = []
            for setting in settings {
                let label = setting ? "Lifeguard on" : "Lifeguard off"
                let chosen = rows.filter { $0.lifeguard == setting }
                series.append(
                    SVGPlot.Series(
                        name: "\(label): everyone knows",
                        points: chosen.compactMap { row in row.fullDissemination.map { (row.loss, $0) } }))
                series.append(
                    SVGPlot.Series(
                        name: "\(label): first detection",
                        points: chosen.compactMap { row in row.firstDetection.map { (row.loss, $0) } }, dashed: true))
            }
            let plot = SVGPlot(
                title: "Failure detection, n=\(nodes)", xLabel: "loss rate", yLabel: "seconds after the crash",
                series: series)
            try write(folder: folder, name: "failure", table: table, plot: plot)
        }
    }
}

import DrizzleNode
import ArgumentParser
import DrizzleCore
import DrizzleSim
import DrizzleTerminal
import Foundation

/// `drizzle sim …`: experiments on the deterministic simulator.
struct Sim: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run an experiment on the deterministic simulator (virtual time, seeded).",
        subcommands: [SimRumor.self, SimFailure.self, SimSize.self, SimLookup.self, SimClock.self, SimOrder.self, SimChaos.self])
}

/// Options every experiment shares.
struct ExperimentOptions: ParsableArguments {
    @Option(help: "Seed; the same seed gives byte-identical output.")
    var seed: UInt64 = 1

    @Option(help: "Folder to write the CSV and SVG plot into.")
    var out: String?

    @Flag(name: .customLong("no-crypto"), help: "Skip signing (for very large runs); the output says so.")
    var noCrypto = false

    @OptionGroup var output: OutputOptions
}

/// `drizzle sim rumor`: Demers et al. 1987, Tables 1 and 2.
struct SimRumor: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rumor",
        abstract: "Rumor mongering (Demers et al. 1987): residue, traffic, t_ave, t_last per k, beside the paper.")

    @Option(help: "Nodes in the simulated cluster.")
    var nodes = 1000

    @Option(help: "Runs averaged per k.")
    var runs = 50

    @Option(help: "feedback-counter, blind-counter, feedback-coin or blind-coin.")
    var variant = "feedback-counter"

    @Option(name: .customLong("k"), help: "Values of k, comma-separated.")
    var ks = "1,2,3,4,5"

    @Option(help: "push, pull or push-pull.")
    var mode = "push"

    @Option(name: .customLong("anti-entropy"), help: "Rounds between anti-entropy exchanges (0: off, the paper's model).")
    var antiEntropy = 0

    @Option(help: "Datagram loss rate in [0, 1).")
    var loss = 0.0

    @OptionGroup var experiment: ExperimentOptions

    func run() async throws {
        guard let (feedback, stop) = RumorPolicy.variant(named: variant) else {
            throw fail("unknown --variant '\(variant)': use feedback-counter, blind-counter, feedback-coin or blind-coin")
        }
        guard let mode = RumorPolicy.Mode(rawValue: mode) else {
            throw fail("unknown --mode '\(self.mode)': use push, pull or push-pull")
        }
        let ks = self.ks.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !ks.isEmpty, ks.allSatisfy({ (1...100).contains($0) }),
            ks.count == self.ks.split(separator: ",").count
        else { throw fail("--k takes whole numbers from 1 to 100, comma-separated, e.g. 1,2,3") }
        guard (2...1_000_000).contains(nodes) else { throw fail("--nodes must be from 2 to 1,000,000") }
        guard (1...10_000).contains(runs) else { throw fail("--runs must be from 1 to 10,000") }
        guard (0..<1).contains(loss) else { throw fail("--loss must be in [0, 1)") }
        guard antiEntropy >= 0 else { throw fail("--anti-entropy must be 0 or more rounds") }

        var setup = RumorExperiment()
        setup.nodes = nodes
        setup.runs = runs
        setup.feedback = feedback
        setup.stop = stop
        setup.ks = ks
        setup.mode = mode
        setup.seed = experiment.seed
        setup.antiEntropyEveryRounds = antiEntropy
        setup.lossRate = loss
        setup.signed = !experiment.noCrypto

        let (result, seconds) = measured(ks.count * runs, "runs") { progress in setup.run(progress: progress) }

        let header = [
            "k", "residue", "traffic", "t_ave", "t_last", "paper_residue", "paper_traffic", "paper_t_ave",
            "paper_t_last", "coverage",
        ]
        let rows = result.rows.map { row -> [String] in
            [
                String(row.k), fixed(row.residue, 4), fixed(row.traffic, 2), fixed(row.meanCycle, 1),
                fixed(row.lastCycle, 1), row.paper.map { fixed($0.residue, 4) } ?? "-",
                row.paper.map { fixed($0.traffic, 2) } ?? "-", row.paper.map { fixed($0.meanCycle, 1) } ?? "-",
                row.paper.map { fixed($0.lastCycle, 1) } ?? "-", fixed(row.coverage, 4),
            ]
        }
        let table = Table(header: header, rows: rows)
        let notes = [
            "rumor: n=\(nodes) runs=\(runs) variant=\(variant) mode=\(mode.rawValue) k=\(self.ks) loss=\(loss) anti-entropy=\(antiEntropy)",
            experiment.noCrypto
                ? "crypto: OFF (--no-crypto): datagrams are encoded but not signed"
                : "crypto: every datagram signed and verified with Ed25519",
            "seed: \(experiment.seed)   rerun: drizzle sim rumor \(CommandLine.arguments.dropFirst(3).joined(separator: " "))",
            "simulated \(result.nodeRounds) node-rounds, \(result.datagrams) datagrams, largest \(result.largestDatagram) bytes",
        ]
        // Wall time goes to standard error: standard output stays byte-identical for a seed.
        StandardStreams.write(
            String(
                format: "drizzle: %.1f s wall time, %.0f node-rounds/s\n", seconds,
                Double(result.nodeRounds) / max(seconds, 1e-9)), to: .error)
        emit(table: table, notes: notes, format: experiment.output.format)
        if let folder = experiment.out {
            let plot = SVGPlot(
                title: "Rumor mongering, \(variant), n=\(nodes): residue vs k", xLabel: "k", yLabel: "residue s",
                logY: true,
                series: [SVGPlot.Series(name: "BitDrizzle", points: result.rows.map { (Double($0.k), $0.residue) })]
                    + (result.rows.allSatisfy { $0.paper != nil }
                        ? [SVGPlot.Series(name: "Demers et al. 1987", points: result.rows.compactMap { row in row.paper.map { (Double(row.k), $0.residue) } }, dashed: true)]
                        : []))
            try write(folder: folder, name: "rumor", table: table, plot: plot)
        }
    }
}

/// Prints a result: notes as `#` lines before an aligned table, or on standard error beside CSV.
func emit(table: Table, notes: [String], format: Table.Format) {
    switch format {
    case .table:
        say(notes.map { "# \($0)" }.joined(separator: "\n"))
        StandardStreams.write(table.render(.table))
    case .csv:
        StandardStreams.write(notes.joined(separator: "\n") + "\n", to: .error)
        StandardStreams.write(table.render(.csv))
    }
}

/// Writes `<name>.csv` and `<name>.svg` into `folder`, creating it.
func write(folder: String, name: String, table: Table, plot: SVGPlot) throws {
    do {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try table.render(.csv).write(toFile: "\(folder)/\(name).csv", atomically: true, encoding: .utf8)
        try plot.render().write(toFile: "\(folder)/\(name).svg", atomically: true, encoding: .utf8)
        StandardStreams.write("wrote \(folder)/\(name).csv and \(folder)/\(name).svg\n", to: .error)
    } catch {
        throw fail("cannot write into \(folder): \(error.localizedDescription) (check the path and permissions)")
    }
}

/// Comma-separated loss rates, each in [0, 1) (`--loss 0,0.05,0.2`).
func lossRates(_ text: String) throws -> [Double] {
    let parts = text.split(separator: ",", omittingEmptySubsequences: false)
    let rates = parts.compactMap { Double($0.trimmingCharacters(in: .whitespaces)) }
    guard !rates.isEmpty, rates.count == parts.count, rates.allSatisfy({ (0..<1).contains($0) }) else {
        throw fail("--loss takes rates in [0, 1), comma-separated, e.g. 0,0.05,0.2")
    }
    return rates
}

/// Runs an experiment with a progress line on a terminal (`total` steps counted in `unit`), and
/// returns its result with the wall time it took, in seconds.
func measured<Result>(_ total: Int, _ unit: String, _ body: ((Int, Int) -> Void) -> Result) -> (Result, seconds: Double) {
    let progress = Progress(total: total)
    let started = WallClock.now()
    let result = body { done, total in progress.update(done, of: total, unit) }
    progress.finish()
    return (result, Double(WallClock.now().nanoseconds - started.nanoseconds) / 1e9)
}

/// `measured`, then the wall time on standard error (standard output stays byte-identical for a seed).
func timed<Result>(_ total: Int, _ unit: String, _ body: ((Int, Int) -> Void) -> Result) -> Result {
    let (result, seconds) = measured(total, unit, body)
    StandardStreams.write(String(format: "drizzle: %.1f s wall time\n", seconds), to: .error)
    return result
}

func fixed(_ value: Double, _ digits: Int) -> String { String(format: "%.\(digits)f", value) }

/// Prints one error line and returns the exit to throw.
func fail(_ message: String) -> ExitCode {
    StandardStreams.write("drizzle: error: \(message)\n", to: .error)
    return ExitCode.failure
}

import ArgumentParser
import DrizzleNode
import DrizzleCore
import DrizzleSim
import Foundation

/// `drizzle sim lookup`: Chord lookup hops vs ring size, against ½·log2 N (Stoica et al. 2001).
struct SimLookup: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lookup",
        abstract: "Chord lookups (Stoica et al. 2001): mean and 99th-percentile hops vs N, beside ½·log2 N.")

    @Option(help: "Ring sizes, comma-separated.")
    var nodes = "100,1000,10000"

    @Option(help: "Lookups of random keys from random nodes, per size.")
    var lookups = 10_000

    @Option(help: "Seed; the same seed gives byte-identical output.")
    var seed: UInt64 = 1

    @Option(help: "Folder to write lookup.csv and lookup.svg into.")
    var out: String?

    @OptionGroup var output: OutputOptions

    func run() async throws {
        let parts = nodes.split(separator: ",", omittingEmptySubsequences: false)
        let sizes = parts.compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !sizes.isEmpty, sizes.count == parts.count, sizes.allSatisfy({ (2...100_000).contains($0) }) else {
            throw fail("--nodes takes ring sizes from 2 to 100,000, comma-separated, e.g. 100,1000,10000")
        }
        guard (1...1_000_000).contains(lookups) else { throw fail("--lookups must be from 1 to 1,000,000") }

        var setup = LookupExperiment()
        setup.sizes = sizes
        setup.lookups = lookups
        setup.seed = seed

        let rows = timed(2 * sizes.count, "phases") { progress in setup.run(progress: progress) }

        let csv = Table(
            header: ["nodes", "mean_hops", "p99_hops", "half_log2_n"],
            rows: rows.map { [String($0.nodes), fixed($0.meanHops, 3), String($0.p99Hops), fixed($0.halfLog2N, 3)] })
        let table: Table
        switch output.format {
        case .csv:
            table = csv
        case .table:
            table = Table(
                header: csv.header + ["ratio", "max_hops", "wrong", "failed"],
                rows: zip(csv.rows, rows).map { cells, row in
                    cells + [
                        fixed(row.ratio, 3), String(row.maxHops), String(row.wrongAnswers), String(row.failedLookups),
                    ]
                })
        }
        var notes = [
            "lookup: nodes=\(sizes.map(String.init).joined(separator: ",")) lookups=\(lookups) r=\(setup.configuration.successorCount) "
                + "latency=0.5-1.5ms loss=0",
            "crypto: none (ring frames travel as plain datagrams: the experiment measures routing)",
            "seed: \(seed)   rerun: drizzle sim lookup \(CommandLine.arguments.dropFirst(3).joined(separator: " "))",
            "hops: remote nodes a lookup asks (0 when the starting node knows the owner); ratio = mean_hops / (½·log2 N)",
        ]
        for row in rows {
            notes.append(
                "n=\(row.nodes): fingers settled after \(row.passes) fix-fingers passes (\(row.warmupRounds) rounds of 100 ms), "
                    + "\(row.wrongFingers) wrong fingers; \(row.datagrams) datagrams; \(row.timeouts) timeouts; "
                    + "hops histogram \(row.hopCounts.map(String.init).joined(separator: " "))")
        }
        let misses = rows.filter { $0.wrongAnswers > 0 || $0.failedLookups > 0 || $0.wrongFingers > 0 }
        if !misses.isEmpty {
            notes.append(
                "WRONG: some lookups returned a wrong owner or failed, or some fingers are wrong (see the table)")
        }
        emit(table: table, notes: notes, format: output.format)
        if let folder = out {
            let points = { (value: (LookupExperiment.Row) -> Double) in
                rows.map { (log2(Double($0.nodes)), value($0)) }
            }
            let plot = SVGPlot(
                title: "Chord lookups: hops vs ring size, \(lookups) lookups per size",
                xLabel: "log2 N   (N = \(sizes.map(String.init).joined(separator: ", ")))", yLabel: "hops",
                series: [
                    SVGPlot.Series(name: "mean hops", points: points(\.meanHops)),
                    SVGPlot.Series(name: "99th percentile", points: points { Double($0.p99Hops) }),
                    SVGPlot.Series(name: "½·log2 N (paper)", points: points(\.halfLog2N), dashed: true),
                ])
            try write(folder: folder, name: "lookup", table: csv, plot: plot)
        }
        if !misses.isEmpty { throw ExitCode.failure }
    }
}

import DrizzleNode
import ArgumentParser
import DrizzleCrypto

/// `drizzle bench …`: measurements recorded in docs/PERFORMANCE.md.
struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a benchmark and print its figures.", subcommands: [BenchCrypto.self])
}

/// `drizzle bench crypto`: raw libsodium against the signed envelope, one core.
struct BenchCrypto: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "crypto",
        abstract: "Ed25519 sign/verify of 1,200-byte datagrams: raw libsodium and the envelope, with their ratio.")

    @OptionGroup var output: OutputOptions

    @Option(help: "Seconds to time each operation.")
    var seconds: Double = 2

    @Option(help: "Datagram size in bytes, signature included.")
    var bytes: Int = 1200

    func validate() throws {
        guard seconds > 0, seconds <= 600 else { throw ValidationError("--seconds must be in (0, 600]") }
        guard (256...65_507).contains(bytes) else { throw ValidationError("--bytes must be in 256...65507") }
    }

    func run() async throws {
        let progress = Progress(total: 10)
        let benchmark = CryptoBenchmark(datagramBytes: bytes, secondsPerOperation: seconds)
        let rows = try benchmark.run(now: WallClock.now) { progress.step($0) }
        progress.finish()
        let table = Table(
            header: ["name", "ops_per_s", "ratio_to_raw"],
            rows: rows.map { [$0.name, String(format: "%.0f", $0.operationsPerSecond), String(format: "%.3f", $0.ratioToRaw)] })
        print(table.render(output.format), terminator: "")
    }
}

import ArgumentParser
import DrizzleConfig
import Foundation

/// `drizzle config`: prints the effective configuration after layering file → `DRIZZLE_*`
/// environment → flags, or the one-line error that names the bad key and where it came from.
struct Config: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print the effective configuration (file → DRIZZLE_* environment → flags).",
        discussion: """
            Any setting can be given as a flag: --net-size 5, --gossip-interval-ms 50 \
            (see docs/configuration.md).
            """)

    @Option(help: "Configuration file (YAML). Default: config/default.yaml when it exists, else built-in defaults.")
    var config: String?

    @Argument(parsing: .allUnrecognized, help: "Setting flags, e.g. --net-size 5.")
    var settings: [String] = []

    func run() async throws {
        let loaded = try loadConfiguration(file: config, flags: settings)
        for (key, value) in loaded.renderedSettings { say("\(key): \(value)") }
    }
}

/// Loads the typed configuration the way every `drizzle` command does; prints one error line and
/// exits 1 on a bad file or value.
func loadConfiguration(file: String?, flags: [String]) throws -> DrizzleConfiguration {
    let (configurationFlags, unknown) = ConfigurationSource.splitArguments(flags)
    if let first = unknown.first {
        throw fail("unknown setting flag '\(first)' (see `drizzle config --help` and docs/configuration.md)")
    }
    let shipped = "config/default.yaml"
    let path = file ?? (FileManager.default.fileExists(atPath: shipped) ? shipped : nil)
    let source = ConfigurationSource(
        filePath: path, environment: ProcessInfo.processInfo.environment, arguments: configurationFlags)
    do {
        return try DrizzleConfiguration.load(source)
    } catch {
        throw fail(error.description)
    }
}

import ArgumentParser

/// `drizzle`: the BitDrizzle node, its prompt, simulations and benchmarks.
@main
struct Drizzle: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "drizzle",
        abstract: "BitDrizzle: an authenticated gossip cluster, DHT and laboratory for distributed systems.",
        discussion: """
            The node runtime, the prompt and multi mode arrive with later issues (see docs/cli.md); \
            today drizzle offers benchmarks. Keys are managed with drizzle-keys.
            """,
        subcommands: [Agent.self, Config.self, Sim.self, Bench.self])
}

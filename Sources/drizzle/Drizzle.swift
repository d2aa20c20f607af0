import ArgumentParser

/// `drizzle`: the BitDrizzle node, its prompt, simulations and benchmarks.
@main
struct Drizzle: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "drizzle",
        abstract: "BitDrizzle: an authenticated gossip cluster, DHT and laboratory for distributed systems.",
        discussion: """
            Run a node with `drizzle agent`, experiments with `drizzle sim`, measurements with \
            `drizzle bench`. The prompt and multi mode arrive with the next issue (see docs/cli.md). \
            Keys are managed with drizzle-keys.
            """,
        subcommands: [Agent.self, Config.self, Sim.self, Bench.self])
}

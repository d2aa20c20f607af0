import ArgumentParser
import DrizzleTerminal

/// `drizzle`: the BitDrizzle node, its prompt, simulations and benchmarks.
@main
struct Drizzle: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "drizzle",
        abstract: "BitDrizzle: an authenticated gossip cluster, DHT and laboratory for distributed systems.",
        discussion: """
            With no subcommand: start the local node and the prompt (type H for its commands; it \
            reads commands from a pipe too). Run one node with `drizzle agent`, experiments with \
            `drizzle sim`, measurements with `drizzle bench`. Keys are managed with drizzle-keys.
            """,
        subcommands: [
            Prompt.self, Agent.self, Cluster.self, Attach.self, Publish.self, Events.self, Config.self, Sim.self, Bench.self,
            Adversary.self,
        ],
        defaultSubcommand: Prompt.self)

    /// Makes standard output and error safe for a reader that goes away (`StandardStreams`)
    /// before any command runs.
    static func main() async {
        StandardStreams.prepare()
        await main(nil)
    }
}

import ArgumentParser
import DrizzleNode
import DrizzlePrompt
import Foundation
import Logging

/// `drizzle` (or `drizzle prompt`): the local node and the prompt.
struct Prompt: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Start the local node and the prompt (the default when no subcommand is given).")

    @Option(help: "Configuration file (YAML) for the prompt's nodes. Default: config/default.yaml when it exists.")
    var config: String?

    @Option(name: .customLong("log-level"), help: "Node log level on standard error: trace … critical.")
    var logLevel: String = "warning"

    @Flag(help: "Start multi mode (MM: net_size nodes on loopback) before the first prompt.")
    var multi = false

    @Option(name: .customLong("event-handler"), help: "Run this shell command for every delivered event (payload on stdin, DRIZZLE_EVENT_* in the environment).")
    var eventHandler: String?

    @Option(name: .customLong("event-order"), help: "When the handler runs: total (the bus's total order, once stable) or arrival (at once, no common order, as Serf).")
    var eventOrder: EventOrderOption = .total

    func run() async throws {
        let configuration = try loadConfiguration(file: config, flags: [])
        try bootstrapLogging(logLevel)
        let session = try await startSession(configuration, label: "drizzle")
        if let eventHandler {
            for line in await session.runEventHandler(eventHandler, delivery: eventOrder.delivery) { say(line) }
        }
        let notices = await session.notices()
        let printer = Task { for await line in notices { say(line) } }
        defer { printer.cancel() }
        let progress = ByteProgress()
        if progress.isVisible { await session.showProgress { done, total in progress.update(done, of: total) } }
        if multi {
            for line in await session.run(.multiMode).lines { say(line) }
        }
        let reader = LineReader(prompt: "Enter a command or type H for help:")
        if !reader.isTerminal { say("Enter a command or type H for help:") }
        while let line = await reader.next() {
            let command: PromptCommand
            do {
                command = try PromptCommand(parsing: line)
            } catch .empty {
                continue
            } catch {
                say(error.description)
                continue
            }
            if !reader.isTerminal { say("> \(line.trimmingCharacters(in: .whitespaces))") }
            let (lines, done) = await session.run(command)
            for output in lines { say(output) }
            if done { return }
        }
        await session.stopAll()
    }
}

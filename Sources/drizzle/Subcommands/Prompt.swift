import ArgumentParser
import DrizzleNode
import DrizzlePrompt
import DrizzleTerminal
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

    @Argument(parsing: .allUnrecognized, help: "Setting flags, e.g. --net-size 6 --gossip-interval-ms 100 (docs/configuration.md).")
    var settings: [String] = []

    func run() async throws {
        let configuration = try loadConfiguration(file: config, flags: settings)
        try bootstrapLogging(logLevel)
        let console = Console(prompt: "Enter a command or type H for help:")
        let phase = PromptPhase(console: console)
        StopRequests.shared.install()
        let stops = Task { for await request in StopRequests.shared.requests { await phase.handle(request) } }
        defer { stops.cancel() }
        let session = try await startSession(configuration, label: "drizzle")
        if let eventHandler {
            for line in await session.runEventHandler(eventHandler, delivery: eventOrder.delivery) { say(line) }
        }
        let notices = await session.notices()
        let printer = Task { for await line in notices { say(line) } }
        defer { printer.cancel() }
        let progress = ByteProgress()
        if progress.isVisible { await session.showProgress { done, total in progress.update(done, of: total) } }
        if multi, await !phase.isStopping {
            for line in await session.run(.multiMode).lines { say(line) }
        }
        if !console.isTerminal { say("Enter a command or type H for help:") }
        while await !phase.isStopping {
            await phase.enter(.reading)
            guard case .line(let line) = await console.next() else { break }
            let command: PromptCommand
            do {
                command = try PromptCommand(parsing: line)
            } catch .empty {
                continue
            } catch {
                say(error.description)
                continue
            }
            if !console.isTerminal { say("> " + PromptCommand.echo(line)) }
            // The command runs as a task of its own, so that Ctrl-C can cancel it (a long WN).
            let running = Task { await session.run(command) }
            await phase.enter(.running(running))
            let (lines, done) = await running.value
            // A cancelled WN or RN leaves its progress line: clear it before the answer.
            if running.isCancelled, progress.isVisible { StandardStreams.write("\r\u{1B}[K", to: .error) }
            for output in lines { say(output) }
            if done { return }
        }
        // Ctrl-D, Ctrl-C at an empty line, the end of a pipe, SIGTERM, a reader gone: as X.
        await phase.enter(.stopping)
        for line in (await session.run(.exit)).lines { say(line) }
    }
}

/// Where the prompt is, so that a stop request does what the user means: Ctrl-C cancels the
/// running command, or at the prompt clears the line (an empty line: exit, as X); SIGTERM and a
/// reader gone end the prompt gracefully wherever it is.
actor PromptPhase {
    enum Phase {
        case starting
        case reading
        case running(Task<(lines: [String], done: Bool), Never>)
        case stopping
    }

    private let console: Console
    private var phase = Phase.starting
    private(set) var isStopping = false

    init(console: Console) { self.console = console }

    func enter(_ next: Phase) {
        if case .stopping = next { isStopping = true }
        phase = next
    }

    func handle(_ request: StopRequest) {
        switch (request, phase) {
        case (.interrupt, .reading):
            console.interrupt()
        case (.interrupt, .running(let task)):
            task.cancel()
        case (.interrupt, .stopping):
            break
        case (_, .running(let task)):
            isStopping = true
            task.cancel()
            console.stop()
        default:
            isStopping = true
            console.stop()
        }
    }
}

import DrizzleConfig
import DrizzleNode
import DrizzlePrompt
import DrizzleTerminal
import Logging

/// Sends logs at `levelText` and above to standard error; one error line for an unknown level.
func bootstrapLogging(_ levelText: String) throws {
    guard let level = Logger.Level(rawValue: levelText) else {
        throw fail("unknown --log-level '\(levelText)': use trace, debug, info, notice, warning, error or critical")
    }
    LoggingSystem.bootstrap { label in
        // Through StandardStreams: a log pipe that closes stops an agent as a closed output does,
        // and the prompt's line editor draws log lines above the line being typed.
        var handler = StreamLogHandler(label: label, stream: StandardErrorStream())
        handler.logLevel = level
        return handler
    }
}

/// Starts a prompt session's local node, printing what it says; one error line if it cannot start.
func startSession(_ configuration: DrizzleConfiguration, label: String) async throws -> PromptSession {
    let session = PromptSession(configuration: configuration, logger: Logger(label: label))
    do {
        for line in try await session.start() { say(line) }
    } catch {
        await session.stopAll()
        throw fail("\(error)")
    }
    return session
}

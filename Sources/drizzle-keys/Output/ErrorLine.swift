import ArgumentParser
import DrizzleTerminal

/// Prints `message` as one line on standard error, prefixed `drizzle-keys: error: `, and ends the
/// command with a non-zero exit status. Every refusal of every subcommand goes through here.
func exitWithError(_ message: String) throws(ExitCode) -> Never {
    let oneLine = message.split(whereSeparator: \.isNewline).joined(separator: " ")
    StandardStreams.note("drizzle-keys: error: \(oneLine)")
    throw ExitCode.failure
}

/// Prints `message` as one line on standard error, prefixed `drizzle-keys: warning: `: something
/// the command worked around, so it still succeeds.
func printWarning(_ message: String) {
    let oneLine = message.split(whereSeparator: \.isNewline).joined(separator: " ")
    StandardStreams.note("drizzle-keys: warning: \(oneLine)")
}

/// Runs a library call; when it throws, prints the error's one-line description with
/// `exitWithError(_:)` (library errors are typed enums whose `description` says what to do).
func orExit<T>(_ body: () throws -> T) throws(ExitCode) -> T {
    do {
        return try body()
    } catch let code as ExitCode {
        throw code
    } catch {
        try exitWithError(String(describing: error))
    }
}

/// Prints one line on standard output through `StandardStreams` (unbuffered; a reader that went away
/// never traps the tool, which finishes what it was doing and exits 0).
func say(_ line: String) { StandardStreams.say(line) }

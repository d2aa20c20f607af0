import CEditLine
import Foundation

/// Reads prompt lines: with line editing and history (libedit) on a terminal, plain lines from a
/// pipe. Reading blocks, so it runs on its own thread, never on the concurrency pool the nodes use.
final class LineReader: Sendable {
    let prompt: String
    let isTerminal: Bool

    init(prompt: String) {
        self.prompt = prompt
        isTerminal = isatty(STDIN_FILENO) == 1
    }

    /// The next line, or `nil` at the end of input.
    func next() async -> String? {
        await withCheckedContinuation { continuation in
            let thread = Thread { [self] in continuation.resume(returning: self.readBlocking()) }
            thread.start()
        }
    }

    private func readBlocking() -> String? {
        guard isTerminal else { return readLine(strippingNewline: true) }
        guard let raw = readline(prompt + " ") else { return nil }
        defer { free(raw) }
        let line = String(cString: raw)
        if !line.trimmingCharacters(in: .whitespaces).isEmpty { add_history(raw) }
        return line
    }
}

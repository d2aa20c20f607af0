import DrizzleTerminal
import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Progress for long runs: shown on standard error when it is a terminal, silent when piped.
final class Progress: Sendable {
    let total: Int
    let isVisible: Bool
    private let counter = Mutex(0)

    init(total: Int) {
        self.total = total
        isVisible = isatty(STDERR_FILENO) == 1
    }

    /// Announces the next step.
    func step(_ label: String) {
        let index = counter.withLock { value -> Int in
            value += 1
            return value
        }
        guard isVisible else { return }
        StandardStreams.write("\r\u{1B}[K[\(index)/\(total)] \(label)…", to: .error)
    }

    /// Shows `done` of `total` (at most every 1%, so drawing never slows the run).
    func update(_ done: Int, of total: Int, _ unit: String) {
        guard isVisible, total > 0, done == total || done % max(1, total / 100) == 0 else { return }
        StandardStreams.write("\r\u{1B}[K\(done)/\(total) \(unit) (\(done * 100 / total)%)", to: .error)
    }

    /// Clears the progress line.
    func finish() {
        guard isVisible else { return }
        StandardStreams.write("\r\u{1B}[K", to: .error)
    }
}

/// Progress of a long write or read, in bytes: on standard error when it is a terminal (redrawn
/// when the percentage changes), silent when piped.
final class ByteProgress: Sendable {
    private let shown = Mutex(-1)
    let isVisible = isatty(STDERR_FILENO) == 1

    func update(_ done: UInt64, of total: UInt64) {
        guard isVisible, total > 0 else { return }
        let percent = Int(done * 100 / total)
        let changed = shown.withLock { last -> Bool in
            guard percent != last else { return false }
            last = percent
            return true
        }
        guard changed else { return }
        let mebibytes = { (bytes: UInt64) in String(Double(bytes / 10_485) / 100) }
        let text = percent >= 100 ? "\r\u{1B}[K" : "\r\u{1B}[K\(mebibytes(done)) of \(mebibytes(total)) MiB (\(percent)%)"
        StandardStreams.write(text, to: .error)
        if percent >= 100 { shown.withLock { $0 = -1 } }
    }
}

/// Prints one line to standard output unbuffered, so a script reading the prompt through a pipe
/// gets each answer at once (`print` would hold it until the pipe buffer fills), and a reader that
/// went away stops the command instead of trapping it (`StandardStreams`).
func say(_ line: String) {
    StandardStreams.say(line)
}

/// Prints one line to standard error (the same way as `say(_:)`).
func note(_ line: String) {
    StandardStreams.note(line)
}

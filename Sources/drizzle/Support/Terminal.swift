import Synchronization
import Foundation

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
        FileHandle.standardError.write(Data("\r\u{1B}[K[\(index)/\(total)] \(label)…".utf8))
    }

    /// Shows `done` of `total` (at most every 1%, so drawing never slows the run).
    func update(_ done: Int, of total: Int, _ unit: String) {
        guard isVisible, total > 0, done == total || done % max(1, total / 100) == 0 else { return }
        FileHandle.standardError.write(Data("\r\u{1B}[K\(done)/\(total) \(unit) (\(done * 100 / total)%)".utf8))
    }

    /// Clears the progress line.
    func finish() {
        guard isVisible else { return }
        FileHandle.standardError.write(Data("\r\u{1B}[K".utf8))
    }
}

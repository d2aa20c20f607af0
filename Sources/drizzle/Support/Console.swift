import CEditLine
import DrizzleTerminal
import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// What the user gave the prompt.
enum ConsoleInput: Equatable, Sendable {
    /// A line, without its newline.
    case line(String)
    /// The end of input: Ctrl-D at an empty line, or the end of a pipe.
    case end
    /// Ctrl-C at an empty line (Ctrl-C with text typed only clears the line).
    case interrupted
    /// `stop()` was called: the process is asked to end (SIGTERM, a reader gone).
    case stopped
}

/// The prompt's input and the lines printed while it waits.
///
/// At a terminal it edits lines with libedit (history, arrow keys, UTF-8 text) through its
/// callback interface, so one thread waits on both the keyboard and a wake-up pipe: a line printed
/// while the user types (a subscribed event, a log line — everything `StandardStreams` writes)
/// appears above the line being typed, which is then drawn again, and Ctrl-C (which the process
/// catches, see `StopRequests`) reaches the editor as `interrupt()`. From a pipe it reads plain
/// lines, any length, with the same wake-up so that `stop()` ends a wait.
final class Console: Sendable {
    let prompt: String
    let isTerminal: Bool
    private let wakeRead: Int32
    private let wakeWrite: Int32

    private struct Pending {
        var outputs: [(text: String, stream: StandardStreams.Stream)] = []
        var interrupt = false
        var stop = false
    }

    private let pending = Mutex(Pending())
    /// Bytes read from a pipe after the last complete line, and whether the pipe has ended.
    private let piped = Mutex((bytes: [UInt8](), ended: false))

    init(prompt: String) {
        self.prompt = prompt
        isTerminal = isatty(STDIN_FILENO) == 1
        var descriptors: [Int32] = [-1, -1]
        if pipe(&descriptors) == 0 {
            for descriptor in descriptors { _ = fcntl(descriptor, F_SETFL, fcntl(descriptor, F_GETFL) | O_NONBLOCK) }
        }
        (wakeRead, wakeWrite) = (descriptors[0], descriptors[1])
        if isTerminal { Self.useUTF8() }
    }

    deinit {
        close(wakeRead)
        close(wakeWrite)
    }

    /// libedit takes the character set from the locale, which the C library starts as "C" (ASCII
    /// only: `WN résumé.txt` would lose its "é"). Use the environment's locale, and where that
    /// is not UTF-8 (an unset `LANG`), C.UTF-8, which Debian always has.
    private static func useUTF8() {
        _ = setlocale(LC_CTYPE, "")
        if let codeset = nl_langinfo(nl_item(CODESET)), String(cString: codeset).uppercased().replacingOccurrences(of: "-", with: "") == "UTF8" {
            return
        }
        _ = setlocale(LC_CTYPE, "C.UTF-8")
    }

    /// The next input. Reading blocks, so it runs on its own thread, never on the concurrency pool
    /// the nodes use.
    func next() async -> ConsoleInput {
        await withCheckedContinuation { continuation in
            let thread = Thread { [self] in continuation.resume(returning: self.readBlocking()) }
            thread.start()
        }
    }

    /// Ctrl-C: at a terminal, clears the line being typed, or, at an empty line, ends the wait
    /// with `.interrupted`.
    func interrupt() {
        pending.withLock { $0.interrupt = true }
        wake()
    }

    /// Ends the current wait (and every later one) with `.stopped`.
    func stop() {
        pending.withLock { $0.stop = true }
        wake()
    }

    private func wake() {
        var byte: UInt8 = 1
        _ = Glibc.write(wakeWrite, &byte, 1)
    }

    private func drainWake() {
        var buffer = [UInt8](repeating: 0, count: 64)
        while Glibc.read(wakeRead, &buffer, buffer.count) > 0 {}
    }

    private func readBlocking() -> ConsoleInput {
        if pending.withLock({ $0.stop }) { return .stopped }
        return isTerminal ? readEdited() : readPiped()
    }

    // MARK: Terminal

    private func readEdited() -> ConsoleInput {
        // A Ctrl-C already flagged came while the prompt was about to read: it is served below.
        editedLine.withLock { $0 = .none }
        // The process catches SIGINT itself (StopRequests); libedit must not install handlers.
        drizzle_editline_leave_signals()
        drizzle_editline_use_getc()
        rl_callback_handler_install(prompt + " ", lineEdited)
        drizzle_editline_bind_interrupt()
        StandardStreams.redirect { [self] text, stream in
            pending.withLock { $0.outputs.append((text, stream)) }
            wake()
        }
        var result: ConsoleInput?
        while result == nil {
            var descriptors = [
                pollfd(fd: STDIN_FILENO, events: Int16(POLLIN), revents: 0),
                pollfd(fd: wakeRead, events: Int16(POLLIN), revents: 0),
            ]
            guard poll(&descriptors, 2, -1) >= 0 else {
                if errno == EINTR { continue }
                result = .end
                break
            }
            if descriptors[1].revents != 0 {
                drainWake()
                result = serveEditing()
            }
            if result == nil, descriptors[0].revents != 0 {
                rl_callback_read_char()
                if drizzle_editline_ended() != 0 {
                    result = .end
                    break
                }
                switch editedLine.withLock({ $0 }) {
                case .none: break
                case .line(let line): result = .line(line)
                case .end: result = .end
                }
            }
        }
        StandardStreams.redirect(nil)
        rl_callback_handler_remove()
        if case .line = result {
        } else {
            // Ctrl-D, Ctrl-C or a stop leave the cursor after the prompt: end its line.
            StandardStreams.writeDirectly("\n", to: .output)
        }
        let late = pending.withLock { pending -> [(text: String, stream: StandardStreams.Stream)] in
            defer { pending.outputs = [] }
            return pending.outputs
        }
        for output in late { StandardStreams.writeDirectly(output.text, to: output.stream) }
        return result ?? .end
    }

    /// Prints lines that arrived while the user types above the prompt, then draws the prompt and
    /// the line again; answers Ctrl-C and `stop()`.
    private func serveEditing() -> ConsoleInput? {
        let (outputs, interrupt, stop) = pending.withLock { pending in
            defer {
                pending.outputs = []
                pending.interrupt = false
            }
            return (pending.outputs, pending.interrupt, pending.stop)
        }
        if !outputs.isEmpty {
            StandardStreams.writeDirectly("\r\u{1B}[K", to: .output)
            for output in outputs { StandardStreams.writeDirectly(output.text, to: output.stream) }
            rl_forced_update_display()
        }
        if stop { return .stopped }
        guard interrupt else { return nil }
        if drizzle_editline_interrupt() != 0 { return .interrupted }
        StandardStreams.writeDirectly("^C\n", to: .output)
        rl_forced_update_display()
        return nil
    }

    // MARK: Pipe

    private func readPiped() -> ConsoleInput {
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let (line, ended) = piped.withLock { piped -> ([UInt8]?, Bool) in
                if let newline = piped.bytes.firstIndex(of: UInt8(ascii: "\n")) {
                    let line = Array(piped.bytes[..<newline])
                    piped.bytes.removeSubrange(...newline)
                    return (line, false)
                }
                guard piped.ended else { return (nil, false) }
                defer { piped.bytes = [] }
                return (piped.bytes.isEmpty ? nil : piped.bytes, true)
            }
            if var line {
                if line.last == UInt8(ascii: "\r") { line.removeLast() }
                return .line(String(decoding: line, as: UTF8.self))
            }
            if ended { return .end }
            var descriptors = [
                pollfd(fd: STDIN_FILENO, events: Int16(POLLIN), revents: 0),
                pollfd(fd: wakeRead, events: Int16(POLLIN), revents: 0),
            ]
            guard poll(&descriptors, 2, -1) >= 0 else {
                if errno == EINTR { continue }
                return .end
            }
            if descriptors[1].revents != 0 {
                drainWake()
                let (interrupt, stop) = pending.withLock { pending in
                    defer { pending.interrupt = false }
                    return (pending.interrupt, pending.stop)
                }
                if stop { return .stopped }
                if interrupt { return .interrupted }
            }
            guard descriptors[0].revents != 0 else { continue }
            let count = Glibc.read(STDIN_FILENO, &buffer, buffer.count)
            if count < 0, errno == EINTR || errno == EAGAIN { continue }
            piped.withLock { piped in
                if count > 0 { piped.bytes += buffer[..<count] } else { piped.ended = true }
            }
        }
    }
}

/// What libedit's line callback delivered (a C function cannot capture the console).
private enum EditedLine {
    case none
    case line(String)
    case end
}

private let editedLine = Mutex(EditedLine.none)

/// libedit calls this with each finished line (malloc'ed, ours to free), or NULL at Ctrl-D.
private func lineEdited(_ raw: UnsafeMutablePointer<CChar>?) {
    guard let raw else {
        editedLine.withLock { $0 = .end }
        return
    }
    let line = String(cString: raw)
    if !line.trimmingCharacters(in: .whitespaces).isEmpty { add_history(raw) }
    free(raw)
    editedLine.withLock { $0 = .line(line) }
}

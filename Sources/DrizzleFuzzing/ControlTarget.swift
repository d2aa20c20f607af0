@_spi(Fuzzing) import DrizzleNode
import DrizzlePrompt
import NIOCore
import NIOEmbedded

/// Bytes a local client writes to the control socket: split into lines by the runtime's decoder
/// (64 KiB limit), each decoded as a JSON request, and a command request parsed as a prompt line.
enum ControlTarget {
    static func run(_ input: [UInt8]) -> FuzzTarget.Outcome {
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(LineDecoder(maximumLength: 65_536)))
        defer { _ = try? channel.finish() }
        _ = try? channel.writeInbound(ByteBuffer(bytes: input))
        var accepted = false
        while let line = try? channel.readInbound(as: ByteBuffer.self) {
            guard let request = ControlRequest(line: line) else { continue }
            if let command = request.command, (try? PromptCommand(parsing: command)) != nil { accepted = true }
            if request.subscribe != nil { accepted = true }
        }
        return accepted ? .accepted : .rejected
    }

    /// One request line per prompt command, a subscription, and several requests in one write.
    static var seeds: [[UInt8]] {
        let commands = [
            "H", "LL", "MM", "FN", "LH 8F3A9C1D2B4E6F708192A3B4C5D6E7F8", "JN", "LN", "SZ", "RI", "MB",
            "WL test_file.txt 256", "WN", "RL 8F3A9C1D2B4E6F708192A3B4C5D6E7F8", "RN", "DN 8F3A9C1D2B4E6F708192A3B4C5D6E7F8",
            "PUB topic a payload with spaces", "SUB news", "UNSUB *", "EV 5", "CK", "X",
        ]
        let lines = commands.map { #"{"command":"\#($0)"}"# + "\n" } + [#"{"subscribe":"*"}"# + "\n"]
        return lines.map { Array($0.utf8) } + [Array(lines.prefix(4).joined().utf8)]
    }
}

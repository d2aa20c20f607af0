/// A command typed at the BitDrizzle prompt: the original's commands, plus `MB`.
/// Parsing is case-insensitive; arguments keep their case (file names, keys).
public enum PromptCommand: Equatable, Sendable {
    public enum Scope: String, Sendable {
        case local = "L"
        case network = "N"
    }

    case help
    case localListener
    case multiMode
    case findNetwork
    case locateHash(String)
    case joinNetwork
    case leaveNetwork
    case size
    case routingInfo
    case members
    case write(Scope, file: String?, pieceSize: Int?)
    case read(Scope, key: String?)
    case delete(Scope, key: String?)
    /// `PUB <topic> <payload>`: the payload is the rest of the line, spaces kept.
    case publish(topic: String, payload: String)
    /// `SUB [topic|*]`: follow a topic (no argument: list the subscriptions).
    case subscribe(String?)
    /// `UNSUB <topic|*>`.
    case unsubscribe(String)
    /// `EV [count]`: the latest delivered events.
    case events(count: Int?)
    /// `CK`: this node's clock estimate.
    case clock
    /// `KS`: this node's certificate, CAs and revocation list, and how far they reach in the cluster.
    case keys
    case exit

    /// Why a line is not a command; the description is the one-line hint the prompt prints.
    public enum ParseError: Error, Equatable, CustomStringConvertible {
        case empty
        case unknown(String)
        case missingArgument(String, usage: String)
        case badArgument(String, usage: String)

        public var description: String {
            switch self {
            case .empty: ""
            case .unknown(let word): "unknown command '\(PromptCommand.echo(word, limit: 40))' — type H for the list of commands"
            case .missingArgument(let command, let usage), .badArgument(let command, let usage):
                "\(command): usage: \(usage)"
            }
        }
    }

    /// Every command with its one-line help, in the order `H` prints them.
    public static let catalog: [(command: String, meaning: String)] = [
        ("H", "Help: this list"),
        ("LL", "Local Listener: check that this node's listener answers"),
        ("MM", "Multi Mode: start net_size nodes on loopback (from the configured base ports)"),
        ("FN", "Find Network: find an entry node (configured seeds, else a scan of the base ports)"),
        ("LH <hash>", "Locate Hash: the node owning a 32-hex-digit hash, its replicas, and the lookup's hops"),
        ("JN", "Join Network: join through the entry node found by FN"),
        ("LN", "Leave Network: leave gracefully"),
        ("SZ", "Network Size: the gossip estimate, the member count of this node's view, and a ring walk"),
        ("RI", "Routing Info: id, members, drops, successor, predecessor, successor list, fingers, store"),
        ("MB", "Members: every member with state, address, incarnation, certificate serial"),
        ("W[L|N] [file] [piece_size]", "Write a file as pieces + manifest to this node's store (L) or the ring (N); prints the key"),
        ("R[L|N] [key]", "Read a file by its manifest key, every hash checked, into <data.dir>/read/"),
        ("D[L|N] [key]", "Delete a file's manifest and pieces from this node's store (L) or every replica (N)"),
        ("PUB <topic> <payload>", "Publish an event on the bus: delivered once, in one total order, on every node"),
        ("SUB [topic|*]", "Subscribe: print delivered events of a topic as they arrive (no topic: list)"),
        ("UNSUB <topic|*>", "Unsubscribe from a topic"),
        ("EV [count]", "Events: the latest delivered events (of subscribed topics, if any), with Lamport time and origin"),
        ("CK", "Clock: this node's estimated offset and drift, and the largest skew it sees in the cluster"),
        ("KS", "Keys: this node's certificate, CAs, revocation list; how many live members hold each CA and list version"),
        ("X", "Exit: stop every node this prompt started"),
    ]

    /// Parses one line. Arguments are separated by spaces; a file name with spaces is written in
    /// quotes (`WN "my file.txt"` or `WN 'my file.txt'`), and a backslash
    /// keeps the next character as it is (`WN my\ file.txt`).
    public init(parsing line: String) throws(ParseError) {
        let plain = line.split(whereSeparator: \.isWhitespace).map(String.init)
        guard let first = plain.first else { throw .empty }
        let word = first.uppercased()
        let arguments: [String]
        switch word {
        case "W", "WL", "WN", "R", "RL", "RN", "D", "DL", "DN":
            guard let words = Self.words(of: line) else {
                throw .badArgument(word, usage: "\(word) [file] …: a quote is not closed (write \"my file.txt\")")
            }
            arguments = Array(words.dropFirst())
        default:
            arguments = Array(plain.dropFirst())
        }
        switch word {
        case "H", "HELP", "?": self = .help
        case "LL": self = .localListener
        case "MM": self = .multiMode
        case "FN": self = .findNetwork
        case "LH":
            guard let hash = arguments.first else { throw .missingArgument("LH", usage: "LH <hash> (32 hex digits)") }
            self = .locateHash(hash)
        case "JN": self = .joinNetwork
        case "LN": self = .leaveNetwork
        case "SZ": self = .size
        case "RI": self = .routingInfo
        case "MB": self = .members
        case "X", "EXIT", "QUIT": self = .exit
        case "CK": self = .clock
        case "KS": self = .keys
        case "PUB":
            let usage = "PUB <topic> <payload> (the payload is the rest of the line)"
            guard let topic = arguments.first else { throw .missingArgument("PUB", usage: usage) }
            guard arguments.count > 1 else { throw .missingArgument("PUB", usage: usage) }
            self = .publish(topic: topic, payload: Self.rest(of: line, after: 2))
        case "SUB": self = .subscribe(arguments.first)
        case "UNSUB":
            guard let topic = arguments.first else { throw .missingArgument("UNSUB", usage: "UNSUB <topic|*>") }
            self = .unsubscribe(topic)
        case "EV":
            var count: Int?
            if let text = arguments.first {
                guard let number = Int(text), number > 0 else {
                    throw .badArgument("EV", usage: "EV [count], count a positive number")
                }
                count = number
            }
            self = .events(count: count)
        case "W", "WL", "WN":
            let scope: Scope = word == "WL" ? .local : .network
            var pieceSize: Int?
            if arguments.count > 1 {
                guard let size = Int(arguments[1]), size > 0 else {
                    throw .badArgument(word, usage: "\(word) [file=test_file.txt] [piece_size=256], piece_size a positive number")
                }
                pieceSize = size
            }
            self = .write(scope, file: arguments.first, pieceSize: pieceSize)
        case "R", "RL", "RN": self = .read(word == "RL" ? .local : .network, key: arguments.first)
        case "D", "DL", "DN": self = .delete(word == "DL" ? .local : .network, key: arguments.first)
        default: throw .unknown(first)
        }
    }

    /// `line` split into words as a shell would for plain arguments: spaces separate, double or
    /// single quotes group (`"my file.txt"`), a backslash outside single quotes keeps the next
    /// character. `nil` when a quote is not closed.
    static func words(of line: String) -> [String]? {
        var words: [String] = []
        var current = ""
        var inWord = false
        var quote: Character?
        var escaped = false
        for character in line {
            if escaped {
                current.append(character)
                escaped = false
            } else if character == "\\", quote != "'" {
                escaped = true
                inWord = true
            } else if let open = quote {
                if character == open { quote = nil } else { current.append(character) }
            } else if character == "\"" || character == "'" {
                quote = character
                inWord = true
            } else if character.isWhitespace {
                if inWord { words.append(current) }
                current = ""
                inWord = false
            } else {
                current.append(character)
                inWord = true
            }
        }
        guard quote == nil else { return nil }
        if escaped { current.append("\\") }
        if inWord || escaped { words.append(current) }
        return words
    }

    /// `text` made safe to print back: control characters shown as `^X` or `\u{…}`, and at most
    /// `limit` characters, the rest counted (a 5 MB line is not echoed whole).
    public static func echo(_ text: String, limit: Int = 200) -> String {
        var shown = ""
        var count = 0
        for scalar in text.unicodeScalars {
            guard count < limit else { break }
            count += 1
            switch scalar.value {
            case 0..<0x20: shown += "^" + String(UnicodeScalar(UInt8(scalar.value + 0x40)))
            case 0x7F: shown += "^?"
            case 0x80..<0xA0, 0x2028, 0x2029, 0x202A...0x202E, 0x2066...0x2069:
                shown += "\\u{\(String(scalar.value, radix: 16))}"
            default: shown.unicodeScalars.append(scalar)
            }
        }
        let total = text.unicodeScalars.count
        if total > count { shown += "… (\(total) characters)" }
        return shown
    }

    /// The text of `line` after its first `words` whitespace-separated words, inner spaces kept.
    static func rest(of line: String, after words: Int) -> String {
        var remainder = Substring(line)
        for _ in 0..<words {
            remainder = remainder.drop { $0.isWhitespace }
            remainder = remainder.drop { !$0.isWhitespace }
        }
        return String(remainder.drop { $0.isWhitespace }.reversed().drop { $0.isWhitespace }.reversed())
    }
}

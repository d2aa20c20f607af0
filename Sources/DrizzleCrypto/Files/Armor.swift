import Foundation

/// Armored text for key material: `-----BEGIN DRIZZLE <LABEL>-----`, base64 in lines of 64
/// characters, `-----END DRIZZLE <LABEL>-----`. A file may hold several blocks (the CA bundle).
public enum Armor {
    /// The kinds of block BitDrizzle writes.
    public enum Label: String, CaseIterable, Sendable {
        case certificate = "CERTIFICATE"
        case secretKey = "SECRET KEY"
        case publicKey = "PUBLIC KEY"
        case revocationList = "REVOCATION LIST"
    }

    /// One decoded block.
    public struct Block: Equatable, Sendable {
        public var label: Label
        public var bytes: [UInt8]

        public init(label: Label, bytes: [UInt8]) {
            self.label = label
            self.bytes = bytes
        }
    }

    /// Why text is not armored key material.
    public enum DecodingError: Error, Equatable, Sendable, CustomStringConvertible {
        case noBlock
        case unknownLabel(String)
        case unterminated(String)
        case badBase64(String)

        public var description: String {
            switch self {
            case .noBlock: "no -----BEGIN DRIZZLE ...----- block found"
            case .unknownLabel(let label): "unknown block type 'DRIZZLE \(label)'"
            case .unterminated(let label): "block 'DRIZZLE \(label)' has no matching END line"
            case .badBase64(let label): "block 'DRIZZLE \(label)' holds invalid base64"
            }
        }
    }

    /// Renders one block.
    public static func encode(_ bytes: [UInt8], label: Label) -> String {
        let base64 = Data(bytes).base64EncodedString(options: [.lineLength64Characters, .endLineWithLineFeed])
        return "-----BEGIN DRIZZLE \(label.rawValue)-----\n\(base64)\n-----END DRIZZLE \(label.rawValue)-----\n"
    }

    /// Every block in `text`, in order. Text outside blocks (comments) is ignored.
    public static func decode(_ text: String) throws(DecodingError) -> [Block] {
        var blocks: [Block] = []
        var open: (label: String, lines: [Substring])?
        for rawLine in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline) {
            let line = rawLine.trimmingCharacters(in: .whitespaces)
            if let current = open {
                if line == "-----END DRIZZLE \(current.label)-----" {
                    guard let label = Label(rawValue: current.label) else { throw .unknownLabel(current.label) }
                    guard let data = Data(base64Encoded: current.lines.joined()) else {
                        throw .badBase64(current.label)
                    }
                    blocks.append(Block(label: label, bytes: [UInt8](data)))
                    open = nil
                } else if line.hasPrefix("-----") {
                    throw .unterminated(current.label)
                } else {
                    open?.lines.append(Substring(line))
                }
            } else if line.hasPrefix("-----BEGIN DRIZZLE "), line.hasSuffix("-----") {
                let label = String(line.dropFirst("-----BEGIN DRIZZLE ".count).dropLast(5))
                open = (label, [])
            }
        }
        if let current = open { throw .unterminated(current.label) }
        guard !blocks.isEmpty else { throw .noBlock }
        return blocks
    }
}

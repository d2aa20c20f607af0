import ArgumentParser
import DrizzleCore
import DrizzleCrypto

extension DrizzleKeys {
    /// `drizzle-keys print <file>`: shows what a key file holds. Of a secret key it shows only the
    /// public half and the node id.
    struct Print: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the contents of a certificate, bundle, revocation list or key file.",
            discussion: "A secret key file is shown by its public key and node id only; the secret is never printed.")

        @Argument(help: ArgumentHelp("A .crt, .crl, .pub or .key file.", valueName: "file"))
        var file: String

        @Flag(help: "Print a JSON array with one object per block.")
        var json = false

        func run() throws {
            let blocks = try orExit { try KeyFiles.blocks(in: file, secret: false) }
            let described = try blocks.map { block throws(ExitCode) in try describe(block) }
            if json {
                say(try orExit { try jsonText(described.map(\.json)) })
            } else {
                say(described.map(\.text).joined(separator: "\n\n"))
            }
        }

        private func describe(_ block: Armor.Block) throws(ExitCode) -> DescribedBlock {
            let suite = SodiumSuite()
            switch block.label {
            case .certificate:
                let certificate = try decoded { () throws(Certificate.DecodingError) in
                    try Certificate(decoding: block.bytes)
                }
                var fields: [DescribedBlock.Field] = [
                    .init("kind", "kind", .text(certificate.kind == .node ? "node" : "ca")),
                    .init("name", "name", .text(certificate.name)),
                    .init("serial", "serial", .text(KeyStore.serialText(certificate.serial))),
                    .init("public key", "public_key", .text(certificate.publicKey.description)),
                ]
                if certificate.kind == .node {
                    fields.append(
                        .init("node id", "node_id", .text(certificate.nodeID(suite: suite).description)))
                }
                fields += [
                    .init("not before", "not_before", .text(isoText(certificate.notBefore))),
                    .init("not after", "not_after", .text(isoText(certificate.notAfter))),
                    .init(
                        certificate.kind == .node ? "issuer id" : "CA id (self-signed)", "issuer_id",
                        .text(certificate.issuer.description)),
                ]
                if certificate.kind == .node {
                    fields.append(.init("addresses", "addresses", .list(certificate.addresses), empty: "any"))
                }
                fields.append(.init("signature", "signature", .text(Hex.encode(certificate.signature))))
                return DescribedBlock(
                    type: "certificate", title: certificate.kind == .node ? "Node certificate" : "CA certificate",
                    fields: fields)
            case .revocationList:
                let list = try decoded { () throws(RevocationList.DecodingError) in
                    try RevocationList(decoding: block.bytes)
                }
                return DescribedBlock(
                    type: "revocation_list", title: "Revocation list",
                    fields: [
                        .init("version", "version", .number(Int64(clamping: list.version))),
                        .init("issued at", "issued_at", .text(isoText(list.issuedAt))),
                        .init("issuer id", "issuer_id", .text(list.issuer.description)),
                        .init(
                            "revoked serials", "revoked_serials", .list(list.serials.sorted().map(KeyStore.serialText)),
                            empty: "none"),
                        .init("revoked keys", "revoked_key_count", .number(Int64(list.publicKeys.count))),
                    ])
            case .publicKey:
                guard let key = PublicKey(bytes: block.bytes) else {
                    try exitWithError(
                        KeyFiles.Failure.damaged(
                            file, reason: "a public key holds 32 bytes, this one \(block.bytes.count)"
                        ).description)
                }
                return DescribedBlock(
                    type: "public_key", title: "Public key",
                    fields: [
                        .init("public key", "public_key", .text(key.description)),
                        .init("node id", "node_id", .text(suite.nodeID(of: key).description)),
                    ])
            case .secretKey:
                // Loading checks the file's mode and that seed and public key agree.
                let key = try orExit { try KeyFiles.loadSecretKey(file) }
                return DescribedBlock(
                    type: "secret_key", title: "Secret key (only its public half is shown)",
                    fields: [
                        .init("public key", "public_key", .text(key.publicKey.description)),
                        .init("node id", "node_id", .text(suite.nodeID(of: key.publicKey).description)),
                    ])
            }
        }

        /// Decodes a block, reporting failure as the file being damaged.
        private func decoded<T, Failure: Error & CustomStringConvertible>(
            _ body: () throws(Failure) -> T
        ) throws(ExitCode) -> T {
            do {
                return try body()
            } catch {
                try exitWithError(KeyFiles.Failure.damaged(file, reason: error.description).description)
            }
        }
    }
}

/// One block of a key file, described for printing as aligned text or as a JSON object.
private struct DescribedBlock {
    enum Value: Encodable {
        case text(String)
        case number(Int64)
        case list([String])

        func encode(to encoder: any Encoder) throws {
            var container = encoder.singleValueContainer()
            switch self {
            case .text(let text): try container.encode(text)
            case .number(let number): try container.encode(number)
            case .list(let list): try container.encode(list)
            }
        }
    }

    struct Field {
        var label: String
        var key: String
        var value: Value
        /// How an empty list reads in text.
        var empty: String

        init(_ label: String, _ key: String, _ value: Value, empty: String = "") {
            self.label = label
            self.key = key
            self.value = value
            self.empty = empty
        }

        var text: String {
            switch value {
            case .text(let text): text
            case .number(let number): String(number)
            case .list(let list): list.isEmpty ? empty : list.joined(separator: ", ")
            }
        }
    }

    var type: String
    var title: String
    var fields: [Field]

    var text: String { title + "\n" + fieldsText(fields.map { ($0.label, $0.text) }) }

    var json: [String: Value] {
        var object = ["type": Value.text(type)]
        for field in fields { object[field.key] = field.value }
        return object
    }
}

import DrizzleConfig
import DrizzleCore
import DrizzleCrypto

/// Certificates and revocation lists as bytes (from a peer's envelope, a rumor or a file), with
/// the trust store's checks applied to whatever decodes.
enum CertificateTarget {
    static func run(_ input: [UInt8]) -> FuzzTarget.Outcome {
        let identities = FuzzIdentities.shared
        var outcomes: [FuzzTarget.Outcome] = []
        if let outcome = MessageDecoders.roundTrip(input, { try? Certificate(decoding: $0) }, \.encoded) {
            outcomes.append(outcome)
            if let certificate = try? Certificate(decoding: input) {
                _ = identities.trust.check(certificate, at: FuzzIdentities.now, suite: FuzzIdentities.suite)
                var trust = identities.trust
                _ = trust.admit(certificate, at: FuzzIdentities.now, suite: FuzzIdentities.suite)
                try? trust.trust(certificate, suite: FuzzIdentities.suite)
            }
        }
        if let outcome = MessageDecoders.roundTrip(input, { try? RevocationList(decoding: $0) }, \.encoded) {
            outcomes.append(outcome)
            if let list = try? RevocationList(decoding: input) {
                var trust = identities.trust
                try? trust.apply(list, suite: FuzzIdentities.suite)
            }
        }
        return outcomes.first { $0 != .accepted } ?? (outcomes.isEmpty ? .rejected : .accepted)
    }

    static var seeds: [[UInt8]] {
        let identities = FuzzIdentities.shared
        return [identities.authority.encoded, identities.revocations.encoded] + identities.nodes.map(\.certificate.encoded)
    }
}

/// Key files as text: every loader `drizzle` and `drizzle-keys` use on a file's contents.
enum KeyFileTarget {
    static func run(_ input: [UInt8]) -> FuzzTarget.Outcome {
        let text = String(decoding: input, as: UTF8.self)
        let path = "fuzz.key"
        let loaded = [
            (try? KeyFiles.secretKey(in: text, named: path)) != nil,
            (try? KeyFiles.publicKey(in: text, named: path)) != nil,
            (try? KeyFiles.certificates(in: text, named: path)) != nil,
            (try? KeyFiles.revocationList(in: text, named: path)) != nil,
        ]
        return loaded.contains(true) ? .accepted : .rejected
    }

    static var seeds: [[UInt8]] {
        let identities = FuzzIdentities.shared
        let key = identities.nodes[0].key
        let texts = [
            Armor.encode(key.seed + key.publicKey.bytes, label: .secretKey),
            Armor.encode(key.publicKey.bytes, label: .publicKey),
            Armor.encode(identities.nodes[1].certificate.encoded, label: .certificate),
            [identities.authority, identities.nodes[2].certificate].map { Armor.encode($0.encoded, label: .certificate) }
                .joined(),
            "# a comment outside the block\n" + Armor.encode(identities.revocations.encoded, label: .revocationList),
        ]
        return texts.map { Array($0.utf8) }
    }
}

/// The YAML configuration file through the whole loader.
enum ConfigTarget {
    static func run(_ input: [UInt8]) -> FuzzTarget.Outcome {
        let source = ConfigurationSource(filePath: "fuzz.yaml", fileContents: input)
        return (try? DrizzleConfiguration.load(source)) == nil ? .rejected : .accepted
    }

    /// The defaults rendered as a file, one section at a time and whole. (`scripts/fuzz --seeds`
    /// adds the shipped `config/default.yaml`.)
    static var seeds: [[UInt8]] {
        var sections: [(name: Substring, lines: [String])] = []
        for (key, value) in DrizzleConfiguration.defaults.renderedSettings {
            let parts = key.split(separator: ".", maxSplits: 1)
            guard parts.count == 2 else { continue }
            let quoted = value.isEmpty ? "\"\"" : value
            if sections.last?.name != parts[0] { sections.append((parts[0], [])) }
            sections[sections.count - 1].lines.append("  \(parts[1]): \(quoted)")
        }
        let texts = sections.map { "\($0.name):\n" + $0.lines.joined(separator: "\n") + "\n" }
        return texts.map { Array($0.utf8) } + [Array(texts.joined().utf8)]
    }
}

public import DrizzleCore

/// Loading and saving the four kinds of key file, each with a one-line error naming the file.
public enum KeyFiles {
    /// Why a key file could not be used.
    public enum Failure: Error, Equatable, Sendable, CustomStringConvertible {
        case file(SecureFile.Failure)
        case damaged(String, reason: String)

        public var description: String {
            switch self {
            case .file(let failure): failure.description
            case .damaged(let path, let reason): "\(path): damaged or not a key file (\(reason))"
            }
        }
    }

    /// Reads a secret key file (refusing a group- or world-readable one) and checks that its
    /// stored public key matches the seed.
    public static func loadSecretKey(_ path: String) throws(Failure) -> SigningKey {
        try secretKey(in: try read(path, secret: true), named: path)
    }

    /// Decodes a secret key file's text; `path` names it in errors.
    public static func secretKey(in text: String, named path: String) throws(Failure) -> SigningKey {
        let bytes = try single(.secretKey, in: text, named: path)
        guard bytes.count == 64, let key = SigningKey(seed: Array(bytes[0..<32])) else {
            throw .damaged(path, reason: "a secret key holds 64 bytes, this one \(bytes.count)")
        }
        guard key.publicKey.bytes == Array(bytes[32..<64]) else {
            throw .damaged(path, reason: "the public key does not match the secret seed")
        }
        return key
    }

    /// Writes a secret key file, mode 0600, atomically.
    public static func saveSecretKey(_ key: SigningKey, to path: String, replace: Bool) throws(Failure) {
        try write(Armor.encode(key.seed + key.publicKey.bytes, label: .secretKey), to: path, mode: 0o600, replace)
    }

    /// Reads a public key file (from `drizzle-keys keygen`).
    public static func loadPublicKey(_ path: String) throws(Failure) -> PublicKey {
        try publicKey(in: try read(path, secret: false), named: path)
    }

    /// Decodes a public key file's text; `path` names it in errors.
    public static func publicKey(in text: String, named path: String) throws(Failure) -> PublicKey {
        let bytes = try single(.publicKey, in: text, named: path)
        guard let key = PublicKey(bytes: bytes) else {
            throw .damaged(path, reason: "a public key holds 32 bytes, this one \(bytes.count)")
        }
        return key
    }

    public static func savePublicKey(_ key: PublicKey, to path: String, replace: Bool) throws(Failure) {
        try write(Armor.encode(key.bytes, label: .publicKey), to: path, mode: 0o644, replace)
    }

    /// Reads every certificate in a file (one for a node, several for the CA bundle).
    public static func loadCertificates(_ path: String) throws(Failure) -> [Certificate] {
        try certificates(in: try read(path, secret: false), named: path)
    }

    /// Decodes the certificates in a file's text; `path` names it in errors.
    public static func certificates(in text: String, named path: String) throws(Failure) -> [Certificate] {
        let blocks = try blocks(in: text, named: path)
        var certificates: [Certificate] = []
        for block in blocks {
            guard block.label == .certificate else {
                throw .damaged(path, reason: "expected certificates, found a \(block.label.rawValue.lowercased())")
            }
            do {
                certificates.append(try Certificate(decoding: block.bytes))
            } catch {
                throw .damaged(path, reason: error.description)
            }
        }
        return certificates
    }

    /// Reads exactly one certificate.
    public static func loadCertificate(_ path: String) throws(Failure) -> Certificate {
        let certificates = try loadCertificates(path)
        guard certificates.count == 1, let certificate = certificates.first else {
            throw .damaged(path, reason: "expected one certificate, found \(certificates.count)")
        }
        return certificate
    }

    public static func saveCertificates(_ certificates: [Certificate], to path: String, replace: Bool) throws(Failure) {
        try write(certificates.map { Armor.encode($0.encoded, label: .certificate) }.joined(), to: path, mode: 0o644, replace)
    }

    public static func loadRevocationList(_ path: String) throws(Failure) -> RevocationList {
        try revocationList(in: try read(path, secret: false), named: path)
    }

    /// Decodes a revocation list file's text; `path` names it in errors.
    public static func revocationList(in text: String, named path: String) throws(Failure) -> RevocationList {
        let bytes = try single(.revocationList, in: text, named: path)
        do {
            return try RevocationList(decoding: bytes)
        } catch {
            throw .damaged(path, reason: error.description)
        }
    }

    public static func saveRevocationList(_ list: RevocationList, to path: String) throws(Failure) {
        try write(Armor.encode(list.encoded, label: .revocationList), to: path, mode: 0o644, true)
    }

    /// Decodes any key file, whatever it holds (for `drizzle-keys print`).
    public static func blocks(in path: String, secret: Bool) throws(Failure) -> [Armor.Block] {
        try blocks(in: try read(path, secret: secret), named: path)
    }

    /// Decodes every block in a key file's text; `path` names it in errors.
    public static func blocks(in text: String, named path: String) throws(Failure) -> [Armor.Block] {
        do {
            return try Armor.decode(text)
        } catch {
            throw .damaged(path, reason: error.description)
        }
    }

    private static func read(_ path: String, secret: Bool) throws(Failure) -> String {
        do {
            return try SecureFile.read(path, secret: secret)
        } catch {
            throw .file(error)
        }
    }

    private static func single(_ label: Armor.Label, in text: String, named path: String) throws(Failure) -> [UInt8] {
        let blocks = try blocks(in: text, named: path)
        guard blocks.count == 1, let block = blocks.first, block.label == label else {
            throw .damaged(path, reason: "expected one \(label.rawValue.lowercased()) block")
        }
        return block.bytes
    }

    private static func write(_ text: String, to path: String, mode: UInt32, _ replace: Bool) throws(Failure) {
        do {
            try SecureFile.write(text, to: path, mode: mode, replace: replace)
        } catch {
            throw .file(error)
        }
    }
}

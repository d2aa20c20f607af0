public import DrizzleCore
import Foundation

/// A cluster's key folder (default `keys/`): the CA, the trust bundle, the revocation list and
/// every certificate issued. `drizzle-keys` is a thin shell over this type; multi mode issues its
/// development keys through it too.
///
/// Layout (docs/keys.md): `ca.key` `ca.crt` (the current CA), `bundle.crt` (every trusted CA),
/// `revoked.crl`, `authorities/<id>.key|.crt` (earlier CAs), `nodes/<name>.key|.crt` (current
/// key and certificate of each node), `issued/<serial>.crt` (every certificate ever issued).
public struct KeyStore: Sendable {
    public let directory: String
    private let suite = SodiumSuite()

    /// A key folder at `directory` (an empty path means the current folder).
    public init(directory: String) {
        let trimmed = directory.hasSuffix("/") && directory.count > 1 ? String(directory.dropLast()) : directory
        self.directory = trimmed.isEmpty ? "." : trimmed
    }

    // MARK: Paths

    public var caKeyPath: String { "\(directory)/ca.key" }
    public var caCertificatePath: String { "\(directory)/ca.crt" }
    public var bundlePath: String { "\(directory)/bundle.crt" }
    public var revocationListPath: String { "\(directory)/revoked.crl" }
    public func keyPath(of name: String) -> String { "\(directory)/nodes/\(name).key" }
    public func certificatePath(of name: String) -> String { "\(directory)/nodes/\(name).crt" }
    private var issuedDirectory: String { "\(directory)/issued" }
    private var authoritiesDirectory: String { "\(directory)/authorities" }
    private func issuedPath(serial: UInt64) -> String { "\(issuedDirectory)/\(Self.serialText(serial)).crt" }

    /// A serial as 16 upper-case hex digits.
    public static func serialText(_ serial: UInt64) -> String { KeyID(serial).description }

    // MARK: Errors

    /// Why a key-folder operation failed; each description is one line saying what to do.
    public enum Failure: Error, Equatable, Sendable, CustomStringConvertible {
        case key(KeyFiles.Failure)
        case authorityExists(String)
        /// No trace of a CA in the folder: neither its key nor a bundle nor a revocation list.
        case noAuthority(String)
        /// The bundle is here but not the CA's secret key: a node host, not the CA host.
        case noAuthorityKey(String)
        /// A bundle without the CA's key: making a CA here would make a second one.
        case bundleWithoutAuthority(String)
        /// A file every host needs from the CA host (`bundle.crt`, `revoked.crl`) is missing from
        /// the folder.
        case missingTrustFile(String, folder: String, holds: String)
        case invalidName(String, problem: String)
        case nameExists(String, path: String)
        case unknownName(String, folder: String)
        case unknownTarget(String)
        case unknownAuthority(String)
        case retiringCurrentAuthority(String)
        case invalidDuration
        case refused(String)

        public var description: String {
            switch self {
            case .key(let failure): failure.description
            case .authorityExists(let path):
                "\(path) already exists (use `drizzle-keys ca --rotate` to add a new CA to the bundle)"
            case .noAuthority(let folder):
                "no CA in \(folder) (no ca.key or bundle.crt): on the CA host, run `drizzle-keys ca` "
                    + "first; on a node host, copy bundle.crt and revoked.crl from the CA host's key folder; "
                    + "or pass --keys-dir"
            case .noAuthorityKey(let path):
                "\(path) is missing: this folder trusts a CA (bundle.crt) but does not hold its secret key, which "
                    + "issue, rotate and revoke need; run them on the CA host, or pass --keys-dir to its key folder"
            case .bundleWithoutAuthority(let path):
                "\(path) exists without ca.key: this folder already trusts a CA kept on another host, and a new one "
                    + "here would be a second CA; make the CA in a folder of its own (--keys-dir)"
            case .missingTrustFile(let file, let folder, let holds):
                "\(folder)/\(file) is missing: it holds \(holds); copy \(file) from the CA host's key folder "
                    + "(every node host needs it) into \(folder)/, or pass --keys-dir"
            case .invalidName(let name, let problem):
                "invalid name '\(KeyStore.shown(name))': it \(problem); a name is 1 to \(Certificate.maximumNameLength) "
                    + "characters from A-Z a-z 0-9 . _ - starting with a letter or digit"
            case .nameExists(let name, let path):
                "a key for '\(name)' exists at \(path) (use `drizzle-keys rotate \(name)`, or --force to overwrite)"
            case .unknownName(let name, let folder):
                "no node named '\(name)' in \(folder) (see `drizzle-keys list`)"
            case .unknownTarget(let target):
                "'\(target)' is neither an issued node name nor a serial in the key folder (see `drizzle-keys list`)"
            case .unknownAuthority(let id): "no earlier CA with id \(id) in the bundle (see `drizzle-keys ca --list`)"
            case .retiringCurrentAuthority(let id):
                "CA \(id) is the current CA; rotate first (`drizzle-keys ca --rotate`), then retire the old one"
            case .invalidDuration: "duration must be positive"
            case .refused(let reason): reason
            }
        }
    }

    // MARK: Names

    /// What is wrong with `name` as the name of a new CA or node, or `nil` when nothing is.
    ///
    /// A node's name becomes a file name (`nodes/<name>.key`) and shows in logs, tables and
    /// arguments: 1 to 64 characters from `A-Z a-z 0-9 . _ -` (what a certificate holds,
    /// protocol.md), starting with a letter or digit, so `.`, `..`, hidden files and names taken
    /// for an option (`-x`) are refused. Letters beyond ASCII (`résumé`) are refused too: nodes
    /// would refuse the certificate, and such a name has several byte forms (composed or not)
    /// that a file system keeps apart but a reader cannot tell apart.
    public static func nameProblem(_ name: String) -> String? {
        if name.isEmpty { return "is empty" }
        if let scalar = name.unicodeScalars.first(where: { !isNameCharacter($0) }) {
            return "contains \(spelled(scalar))"
        }
        if name.utf8.count > Certificate.maximumNameLength { return "has \(name.utf8.count) characters" }
        if let first = name.unicodeScalars.first, !isLetterOrDigit(first) { return "starts with '\(first)'" }
        return nil
    }

    /// `nameProblem(_:)`, and `ca`, which a node may not be called.
    public static func nodeNameProblem(_ name: String) -> String? {
        nameProblem(name) ?? (name == "ca" ? "is kept for the CA" : nil)
    }

    private static func isLetterOrDigit(_ scalar: Unicode.Scalar) -> Bool {
        ("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar) || ("0"..."9").contains(scalar)
    }

    private static func isNameCharacter(_ scalar: Unicode.Scalar) -> Bool {
        isLetterOrDigit(scalar) || scalar == "." || scalar == "_" || scalar == "-"
    }

    /// A character as an error line names it: `'/'`, `a space`, `U+0007`, `'é' (U+00E9)`.
    private static func spelled(_ scalar: Unicode.Scalar) -> String {
        let hex = String(scalar.value, radix: 16, uppercase: true)
        let code = "U+" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
        if scalar == " " { return "a space" }
        if isInvisible(scalar) { return code }
        return scalar.isASCII ? "'\(scalar)'" : "'\(scalar)' (\(code))"
    }

    private static func isInvisible(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.properties.generalCategory {
        case .control, .format, .lineSeparator, .paragraphSeparator, .spaceSeparator, .unassigned, .surrogate,
            .privateUse:
            true
        default: false
        }
    }

    /// `name` as a one-line error can show it: invisible characters as `\u{…}`, at most 64 characters.
    fileprivate static func shown(_ name: String) -> String {
        var text = ""
        for scalar in name.unicodeScalars.prefix(64) {
            let escaped = "\\u{\(String(scalar.value, radix: 16, uppercase: true))}"
            text += isInvisible(scalar) && scalar != " " ? escaped : String(scalar)
        }
        return name.unicodeScalars.count > 64 ? text + "…" : text
    }

    // MARK: Certificate authority

    /// Creates the cluster CA: `ca.key` (0600), `ca.crt`, a bundle holding it, and an empty
    /// revocation list (version 1). Refuses when a CA exists.
    @discardableResult
    public func createAuthority(name: String = "drizzle-ca", durationSeconds: Int64, now: Int64) throws(Failure)
        -> Certificate
    {
        guard durationSeconds > 0 else { throw .invalidDuration }
        if let problem = Self.nameProblem(name) { throw .invalidName(name, problem: problem) }
        if SecureFile.exists(caKeyPath) { throw .authorityExists(caKeyPath) }
        if SecureFile.exists(bundlePath) { throw .bundleWithoutAuthority(bundlePath) }
        try makeFolders()
        let key = SigningKey.generate()
        let certificate = selfSigned(key: key, name: name, durationSeconds: durationSeconds, now: now)
        try wrap { () throws(KeyFiles.Failure) in
            try KeyFiles.saveSecretKey(key, to: caKeyPath, replace: false)
            try KeyFiles.saveCertificates([certificate], to: caCertificatePath, replace: true)
            try KeyFiles.saveCertificates([certificate], to: bundlePath, replace: true)
        }
        var list = RevocationList(version: 1, issuedAt: now, issuer: certificate.issuer)
        list.sign(with: key)
        try wrap { () throws(KeyFiles.Failure) in try KeyFiles.saveRevocationList(list, to: revocationListPath) }
        return certificate
    }

    /// Makes a new CA current. The previous one moves to `authorities/` and stays in the bundle
    /// (certificates it issued stay valid) until `retireAuthority`. The revocation list is re-signed
    /// by the new CA with its version increased.
    public func rotateAuthority(durationSeconds: Int64, now: Int64) throws(Failure) -> (
        current: Certificate, previous: Certificate
    ) {
        guard durationSeconds > 0 else { throw .invalidDuration }
        let (oldKey, oldCertificate) = try authority()
        let bundle = try trustedAuthorities()
        try makeFolders()
        let previousKeyPath = "\(authoritiesDirectory)/\(oldCertificate.issuer).key"
        try wrap { () throws(KeyFiles.Failure) in
            try KeyFiles.saveSecretKey(oldKey, to: previousKeyPath, replace: true)
            try KeyFiles.saveCertificates(
                [oldCertificate], to: "\(authoritiesDirectory)/\(oldCertificate.issuer).crt", replace: true)
        }
        let key = SigningKey.generate()
        let certificate = selfSigned(key: key, name: oldCertificate.name, durationSeconds: durationSeconds, now: now)
        var list = try revocationList()
        list.version += 1
        list.issuedAt = now
        list.issuer = certificate.issuer
        list.sign(with: key)
        try wrap { () throws(KeyFiles.Failure) in
            try KeyFiles.saveCertificates(bundle + [certificate], to: bundlePath, replace: true)
            try KeyFiles.saveSecretKey(key, to: caKeyPath, replace: true)
            try KeyFiles.saveCertificates([certificate], to: caCertificatePath, replace: true)
            try KeyFiles.saveRevocationList(list, to: revocationListPath)
        }
        return (certificate, oldCertificate)
    }

    /// Removes an earlier CA from the bundle: certificates it issued are no longer trusted.
    /// Its key is kept as `authorities/<id>.key.retired`.
    public func retireAuthority(_ idText: String) throws(Failure) -> Certificate {
        let (_, current) = try authority()
        guard let id = KeyID(hex: idText) else { throw .unknownAuthority(idText) }
        if id == current.issuer { throw .retiringCurrentAuthority(idText) }
        var bundle = try trustedAuthorities()
        guard let retired = bundle.first(where: { $0.issuer == id }) else { throw .unknownAuthority(idText) }
        bundle.removeAll { $0.issuer == id }
        try wrap { () throws(KeyFiles.Failure) in try KeyFiles.saveCertificates(bundle, to: bundlePath, replace: true) }
        let keyPath = "\(authoritiesDirectory)/\(id).key"
        if SecureFile.exists(keyPath) {
            do { try SecureFile.move(keyPath, to: keyPath + ".retired") } catch { throw .key(.file(error)) }
        }
        return retired
    }

    /// The current CA's key and certificate.
    public func authority() throws(Failure) -> (key: SigningKey, certificate: Certificate) {
        guard SecureFile.exists(caKeyPath) else {
            throw SecureFile.exists(bundlePath) ? .noAuthorityKey(caKeyPath) : .noAuthority(directory)
        }
        return try wrap { () throws(KeyFiles.Failure) in
            let key = try KeyFiles.loadSecretKey(caKeyPath)
            let certificate = try KeyFiles.loadCertificate(caCertificatePath)
            guard certificate.publicKey == key.publicKey else {
                throw .damaged(caCertificatePath, reason: "the CA certificate does not belong to \(caKeyPath)")
            }
            return (key, certificate)
        }
    }

    /// Every CA in the trust bundle.
    public func trustedAuthorities() throws(Failure) -> [Certificate] {
        guard SecureFile.exists(bundlePath) else {
            if holdsNoAuthority { throw .noAuthority(directory) }
            throw .missingTrustFile("bundle.crt", folder: directory, holds: "the CAs this host trusts")
        }
        return try wrap { () throws(KeyFiles.Failure) in try KeyFiles.loadCertificates(bundlePath) }
    }

    /// The current revocation list.
    public func revocationList() throws(Failure) -> RevocationList {
        guard SecureFile.exists(revocationListPath) else {
            if holdsNoAuthority { throw .noAuthority(directory) }
            throw .missingTrustFile(
                "revoked.crl", folder: directory, holds: "the CA's signed list of revoked certificates")
        }
        return try wrap { () throws(KeyFiles.Failure) in try KeyFiles.loadRevocationList(revocationListPath) }
    }

    /// A trust store over the bundle and the revocation list, as a node loads it.
    public func trustStore() throws(Failure) -> TrustStore {
        let authorities = try trustedAuthorities()
        let list = try revocationList()
        do {
            return try TrustStore(authorities: authorities, revocations: list, suite: suite)
        } catch {
            throw .refused("\(bundlePath) or \(revocationListPath): \(error.description)")
        }
    }

    // MARK: Node certificates

    /// What `issue` and `rotate` produced.
    public struct Issued: Sendable {
        public var certificate: Certificate
        public var nodeID: NodeID
        public var certificatePath: String
        /// Where the secret key was written; `nil` when only a public key was signed.
        public var keyPath: String?
        /// True when the requested duration was cut to the CA's own expiry.
        public var clampedToAuthority: Bool
    }

    /// Issues a certificate for `name`: generates a key pair (or signs `publicKey`), writes
    /// `nodes/<name>.key` (0600, atomically, refused when present unless `force`) and
    /// `nodes/<name>.crt`, and records the certificate under `issued/`. `ringID` names the node id
    /// the key speaks for when it is not the key's own hash (a rotation keeps the node's id).
    public func issue(
        name: String, durationSeconds: Int64, addresses: [String] = [], publicKey: PublicKey? = nil,
        ringID: NodeID? = nil, force: Bool = false, now: Int64
    ) throws(Failure) -> Issued {
        if let problem = Self.nodeNameProblem(name) { throw .invalidName(name, problem: problem) }
        guard durationSeconds > 0 else { throw .invalidDuration }
        guard addresses.count <= Certificate.maximumAddressCount else {
            throw .refused("at most \(Certificate.maximumAddressCount) addresses fit in a certificate, got \(addresses.count)")
        }
        for address in addresses where address.isEmpty || address.utf8.count > 255 {
            throw .refused("address '\(address)' must be 1 to 255 bytes of host:port")
        }
        let (caKey, caCertificate) = try authority()
        guard caCertificate.notAfter > now else {
            throw .refused("the CA in \(directory) has expired; run `drizzle-keys ca --rotate` to make a new one")
        }
        if !force {
            for path in [keyPath(of: name), certificatePath(of: name)] where SecureFile.exists(path) {
                throw .nameExists(name, path: path)
            }
        }
        try makeFolders()
        let key = publicKey == nil ? SigningKey.generate() : nil
        guard let subjectKey = publicKey ?? key?.publicKey else { throw .refused("no public key to certify") }
        let wanted = now.addingReportingOverflow(durationSeconds)
        let notAfter = wanted.overflow ? caCertificate.notAfter : min(wanted.partialValue, caCertificate.notAfter)
        var certificate = Certificate(
            kind: .node, serial: try freshSerial(), name: name, publicKey: subjectKey, notBefore: now,
            notAfter: notAfter, issuer: caCertificate.issuer, addresses: addresses,
            ringID: ringID.flatMap { $0 == suite.nodeID(of: subjectKey) ? nil : $0 })
        certificate.sign(with: caKey)
        if key == nil, force, SecureFile.exists(keyPath(of: name)) {
            // The node holds its own secret now; a key left here would no longer match the certificate.
            do { try SecureFile.move(keyPath(of: name), to: keyPath(of: name) + ".replaced") } catch { throw .key(.file(error)) }
        }
        try wrap { () throws(KeyFiles.Failure) in
            if let key { try KeyFiles.saveSecretKey(key, to: keyPath(of: name), replace: force) }
            try KeyFiles.saveCertificates([certificate], to: certificatePath(of: name), replace: true)
            try KeyFiles.saveCertificates([certificate], to: issuedPath(serial: certificate.serial), replace: false)
        }
        return Issued(
            certificate: certificate, nodeID: certificate.nodeID(suite: suite), certificatePath: certificatePath(of: name),
            keyPath: key == nil ? nil : keyPath(of: name), clampedToAuthority: notAfter != wanted.partialValue)
    }

    /// Issues `name` a fresh key and certificate with a new serial, replacing its current files.
    /// The new certificate keeps the node's id (its ring position, membership and events), so a
    /// running node can switch keys without leaving. The previous certificate stays valid until
    /// revoked (`revoke <serial>`).
    public func rotate(name: String, durationSeconds: Int64, publicKey: PublicKey? = nil, now: Int64) throws(Failure) -> (
        issued: Issued, previous: Certificate
    ) {
        if let problem = Self.nodeNameProblem(name) { throw .invalidName(name, problem: problem) }
        guard SecureFile.exists(certificatePath(of: name)) else { throw .unknownName(name, folder: directory) }
        let previous = try wrap { () throws(KeyFiles.Failure) in try KeyFiles.loadCertificate(certificatePath(of: name)) }
        let issued = try issue(
            name: name, durationSeconds: durationSeconds, addresses: previous.addresses, publicKey: publicKey,
            ringID: previous.nodeID(suite: suite), force: true, now: now)
        return (issued, previous)
    }

    /// What `revoke` did.
    public struct Revocation: Sendable {
        /// The revocation list as it now stands.
        public var list: RevocationList
        /// Certificates this call added to the list (with their keys, when revoking by name).
        public var revoked: [Certificate]
        /// Matching certificates the list already held; nothing was added for them.
        public var alreadyRevoked: [Certificate]
        /// True when the list was written with a higher version.
        public var changed: Bool { !revoked.isEmpty }
    }

    /// Revokes by serial (16 hex digits: that certificate) or by name (every certificate issued
    /// to that name, and their keys). Writes the revocation list with its version increased when
    /// it adds something; revoking what the list already holds changes nothing (no new version,
    /// nothing to spread) and is not an error. Refuses while a file under `issued/` cannot be read,
    /// since it might hold a certificate of the target.
    public func revoke(_ target: String, now: Int64) throws(Failure) -> Revocation {
        let (caKey, caCertificate) = try authority()
        let issued = issuedCertificates()
        if let unreadable = issued.unreadable.first { throw .key(unreadable) }
        let all = issued.certificates
        let matching: [Certificate]
        let bySerial: Bool
        if let serial = KeyID(hex: target)?.value, let certificate = all.first(where: { $0.serial == serial }) {
            matching = [certificate]
            bySerial = true
        } else {
            matching = all.filter { $0.name == target }
            bySerial = false
        }
        guard !matching.isEmpty else { throw .unknownTarget(target) }
        var list = try revocationList()
        let held = list
        let isListed = { (certificate: Certificate) in
            held.serials.contains(certificate.serial) && (bySerial || held.publicKeys.contains(certificate.publicKey))
        }
        let fresh = matching.filter { !isListed($0) }
        let already = matching.filter(isListed)
        guard !fresh.isEmpty else { return Revocation(list: list, revoked: [], alreadyRevoked: already) }
        list.version += 1
        list.issuedAt = now
        list.issuer = caCertificate.issuer
        list.serials.formUnion(fresh.map(\.serial))
        if !bySerial { list.publicKeys.formUnion(fresh.map(\.publicKey)) }
        list.sign(with: caKey)
        try wrap { () throws(KeyFiles.Failure) in try KeyFiles.saveRevocationList(list, to: revocationListPath) }
        return Revocation(list: list, revoked: fresh, alreadyRevoked: already)
    }

    /// Every certificate recorded under `issued/`, oldest first, and the `.crt` files there that
    /// could not be read as one certificate (a stray or damaged file), each failure naming its file.
    public func issuedCertificates() -> (certificates: [Certificate], unreadable: [KeyFiles.Failure]) {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: issuedDirectory)) ?? []
        var certificates: [Certificate] = []
        var unreadable: [KeyFiles.Failure] = []
        for file in names.sorted() where file.hasSuffix(".crt") {
            do {
                certificates.append(try KeyFiles.loadCertificate("\(issuedDirectory)/\(file)"))
            } catch {
                unreadable.append(error)
            }
        }
        let sorted = certificates.sorted { ($0.notBefore, $0.serial) < ($1.notBefore, $1.serial) }
        return (sorted, unreadable)
    }

    // MARK: Status

    /// Where a certificate stands.
    public enum Status: String, Sendable, Equatable {
        case valid
        case expiring
        case expired
        case revoked
        case notYetValid = "not-yet-valid"
        case notANodeCertificate = "not-a-node-certificate"
        case untrusted
        case badSignature = "bad-signature"
    }

    /// One row of `drizzle-keys list`.
    public struct Entry: Sendable {
        public var certificate: Certificate
        public var nodeID: NodeID
        public var status: Status
    }

    /// How long before expiry a certificate counts as expiring.
    public static let expiringWindowSeconds: Int64 = 30 * 86_400

    /// The standing of `certificate` against the bundle and revocation list at `now` (seconds).
    public func status(of certificate: Certificate, now: Int64) throws(Failure) -> Status {
        status(of: certificate, in: try trustStore(), now: now)
    }

    /// What `drizzle-keys list` shows: every issued certificate with its status, and the files
    /// under `issued/` it skipped because they could not be read.
    public struct Inventory: Sendable {
        public var entries: [Entry]
        public var unreadable: [KeyFiles.Failure]
    }

    /// Every issued certificate with its status; a file under `issued/` that cannot be read is
    /// skipped and reported, not fatal.
    public func inventory(now: Int64) throws(Failure) -> Inventory {
        let store = try trustStore()
        let issued = issuedCertificates()
        let entries = issued.certificates.map { certificate in
            Entry(
                certificate: certificate, nodeID: certificate.nodeID(suite: suite),
                status: status(of: certificate, in: store, now: now))
        }
        return Inventory(entries: entries, unreadable: issued.unreadable)
    }

    private func status(of certificate: Certificate, in store: TrustStore, now: Int64) -> Status {
        guard certificate.kind == .node else { return .notANodeCertificate }
        return switch store.check(certificate, at: Instant(unixSeconds: now), suite: suite) {
        case .none: certificate.notAfter - now <= Self.expiringWindowSeconds ? .expiring : .valid
        case .expired: .expired
        case .notYetValid: .notYetValid
        case .revoked: .revoked
        case .untrustedIssuer: .untrusted
        default: .badSignature
        }
    }

    /// A node's key and current certificate, checked to belong together.
    public func identity(of name: String) throws(Failure) -> (key: SigningKey, certificate: Certificate) {
        guard SecureFile.exists(keyPath(of: name)) else { throw .unknownName(name, folder: directory) }
        return try wrap { () throws(KeyFiles.Failure) in
            let key = try KeyFiles.loadSecretKey(keyPath(of: name))
            let certificate = try KeyFiles.loadCertificate(certificatePath(of: name))
            guard certificate.publicKey == key.publicKey else {
                throw .damaged(certificatePath(of: name), reason: "certificate does not belong to \(keyPath(of: name))")
            }
            return (key, certificate)
        }
    }

    /// The ring id of a public key.
    public func nodeID(of key: PublicKey) -> NodeID { suite.nodeID(of: key) }

    // MARK: Helpers

    private func selfSigned(key: SigningKey, name: String, durationSeconds: Int64, now: Int64) -> Certificate {
        let (end, overflow) = now.addingReportingOverflow(durationSeconds)
        var certificate = Certificate(
            kind: .authority, serial: SecureRandom.nonZeroUInt64(), name: name, publicKey: key.publicKey,
            notBefore: now, notAfter: overflow ? .max : end, issuer: suite.keyID(of: key.publicKey))
        certificate.sign(with: key)
        return certificate
    }

    /// True when nothing of a CA is in the folder: no key, bundle or revocation list.
    private var holdsNoAuthority: Bool {
        !SecureFile.exists(caKeyPath) && !SecureFile.exists(bundlePath) && !SecureFile.exists(revocationListPath)
    }

    private func freshSerial() throws(Failure) -> UInt64 {
        while true {
            let serial = SecureRandom.nonZeroUInt64()
            if !SecureFile.exists(issuedPath(serial: serial)) { return serial }
        }
    }

    private func makeFolders() throws(Failure) {
        for folder in [directory, "\(directory)/nodes", issuedDirectory, authoritiesDirectory] {
            do { try SecureFile.makeDirectory(folder) } catch { throw .key(.file(error)) }
        }
    }

    private func wrap<T>(_ body: () throws(KeyFiles.Failure) -> T) throws(Failure) -> T {
        do { return try body() } catch { throw .key(error) }
    }
}

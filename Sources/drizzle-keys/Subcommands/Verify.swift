import ArgumentParser
import DrizzleCore
import DrizzleCrypto

extension DrizzleKeys {
    /// `drizzle-keys verify <cert>`: checks a node certificate as a node would, against the key
    /// folder's bundle and revocation list.
    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check a node certificate against the CA bundle and the revocation list.",
            discussion:
                "Exits 0 and prints OK when a node would accept the certificate now; otherwise prints why and exits 1.")

        @OptionGroup var options: KeyFolderOptions

        @Argument(help: ArgumentHelp("The certificate file.", valueName: "cert"))
        var file: String

        func run() throws {
            let certificate = try orExit { try KeyFiles.loadCertificate(file) }
            let label = "\(file): '\(certificate.name)' serial \(KeyStore.serialText(certificate.serial))"
            let store = options.store
            let now = unixNow()
            switch try orExit({ try store.status(of: certificate, now: now) }) {
            case .notANodeCertificate:
                try exitWithError(
                    "\(label) is a CA certificate; verify checks node certificates (see `drizzle-keys ca --list`)")
            case .valid, .expiring:
                let left = certificate.notAfter - now
                let soon = left <= KeyStore.expiringWindowSeconds ? " (expires in \(durationText(left)))" : ""
                let serial = KeyStore.serialText(certificate.serial)
                say("OK: \(certificate.name) serial \(serial) valid until \(isoText(certificate.notAfter))\(soon)")
            case .expired:
                try exitWithError("\(label) expired at \(isoText(certificate.notAfter))")
            case .notYetValid:
                try exitWithError("\(label) is not yet valid (not before \(isoText(certificate.notBefore)))")
            case .revoked:
                let version = (try? store.revocationList().version).map { " version \($0)" } ?? ""
                try exitWithError("\(label) is revoked (in \(store.revocationListPath)\(version))")
            case .untrusted:
                let issuer = "CA \(certificate.issuer)"
                let bundle = store.bundlePath
                try exitWithError("\(label) has an untrusted issuer: \(issuer) is not in the bundle \(bundle)")
            case .badSignature:
                try exitWithError(
                    "\(label) has a bad signature: not signed by CA \(certificate.issuer) (damaged or forged file)")
            }
        }
    }
}

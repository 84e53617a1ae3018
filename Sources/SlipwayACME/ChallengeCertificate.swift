import Crypto
import Foundation
import SwiftASN1
import X509

/// Self-signed certificates the edge makes itself: the one a TLS-ALPN-01 challenge is answered with (RFC 8737),
/// and the placeholder an ACME address serves until its first certificate is issued (so its listener, and the
/// challenges on it, can start at all).
public enum ChallengeCertificate {
    /// id-pe-acmeIdentifier (RFC 8737 §6.1).
    public static let acmeIdentifierOID: ASN1ObjectIdentifier = [1, 3, 6, 1, 5, 5, 7, 1, 31]
    /// The placeholder's issuer and subject organisation: `slipway certs` and the alerts tell it by this.
    public static let placeholderOrganization = "Slipway placeholder (ACME certificate pending)"

    /// For `name`, with the critical acmeIdentifier extension holding SHA-256 of the key authorization.
    public static func tlsALPN01(name: String, keyAuthorization: String, now: Date = Date()) throws(ACMEFailure) -> (certificatePEM: String, keyPEM: String) {
        let digest = Array(SHA256.hash(data: Data(keyAuthorization.utf8)))
        do {
            var serializer = DER.Serializer()
            try serializer.serialize(ASN1OctetString(contentBytes: digest[...]))
            let ext = Certificate.Extension(oid: acmeIdentifierOID, critical: true, value: serializer.serializedBytes[...])
            return try selfSigned(names: [name], organization: nil, notBefore: now - 60, notAfter: now + 7 * 86_400, extra: [ext])
        } catch let e as ACMEFailure { throw e } catch {
            throw ACMEFailure(.protocolError, "cannot make the TLS-ALPN-01 certificate for \(name)", cause: "\(error)")
        }
    }

    /// A placeholder for `names` (valid a week; made again when it runs out).
    public static func placeholder(names: [String], now: Date = Date()) throws(ACMEFailure) -> (certificatePEM: String, keyPEM: String) {
        // A route that takes every host (on demand) names none: the placeholder still needs one.
        try selfSigned(names: names.isEmpty ? ["placeholder.invalid"] : names, organization: placeholderOrganization, notBefore: now - 60, notAfter: now + 7 * 86_400, extra: [])
    }

    static func selfSigned(names: [String], organization: String?, notBefore: Date, notAfter: Date,
                           extra: [Certificate.Extension]) throws(ACMEFailure) -> (certificatePEM: String, keyPEM: String) {
        let key = P256.Signing.PrivateKey()
        do {
            let subject = try DistinguishedName {
                if let organization { OrganizationName(organization) }
                CommonName(names.first ?? "slipway")
            }
            var extensions = try Certificate.Extensions {
                SubjectAlternativeNames(names.map { .dnsName($0) })
            }
            for e in extra { try extensions.append(e) }
            let certificate = try Certificate(
                version: .v3, serialNumber: .init(), publicKey: .init(key.publicKey),
                notValidBefore: notBefore, notValidAfter: notAfter, issuer: subject, subject: subject,
                signatureAlgorithm: .ecdsaWithSHA256, extensions: extensions, issuerPrivateKey: .init(key))
            return (try certificate.serializeAsPEM().pemString, key.pemRepresentation)
        } catch {
            throw ACMEFailure(.protocolError, "cannot make a certificate for \(names.joined(separator: ", "))", cause: "\(error)")
        }
    }
}

import Crypto
import Foundation
import SwiftASN1
import X509

/// A certificate authority made for one test, and a server certificate it signed for 127.0.0.1 and localhost.
struct TestCertificates {
    let caFile: String
    let certFile: String
    let keyFile: String

    /// `hosts`: the server certificate's DNS names (the first is its common name); 127.0.0.1 is always in it.
    /// `ips`: more IPv4 addresses the server certificate is for.
    init(in directory: String, name: String = "test", hosts: [String] = ["localhost"], ips: [[UInt8]] = []) throws {
        let now = Date()
        let caKey = P256.Signing.PrivateKey()
        let caName = try DistinguishedName { CommonName("Slipway \(name) CA") }
        let ca = try Certificate(
            version: .v3, serialNumber: .init(), publicKey: .init(caKey.publicKey),
            notValidBefore: now - 60, notValidAfter: now + 3600, issuer: caName, subject: caName,
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: nil))
                Critical(KeyUsage(keyCertSign: true))
            },
            issuerPrivateKey: .init(caKey))
        let key = P256.Signing.PrivateKey()
        let leaf = try Certificate(
            version: .v3, serialNumber: .init(), publicKey: .init(key.publicKey),
            notValidBefore: now - 60, notValidAfter: now + 3600, issuer: caName,
            subject: try DistinguishedName { CommonName(hosts.first ?? "localhost") },
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                SubjectAlternativeNames(hosts.map { .dnsName($0) } + ([[127, 0, 0, 1]] + ips).map { .ipAddress(ASN1OctetString(contentBytes: ArraySlice($0))) })
                try ExtendedKeyUsage([.serverAuth])
            },
            issuerPrivateKey: .init(caKey))
        caFile = directory + "/\(name)-ca.pem"
        certFile = directory + "/\(name)-cert.pem"
        keyFile = directory + "/\(name)-key.pem"
        try ca.serializeAsPEM().pemString.write(toFile: caFile, atomically: true, encoding: .utf8)
        try leaf.serializeAsPEM().pemString.write(toFile: certFile, atomically: true, encoding: .utf8)
        try key.pemRepresentation.write(toFile: keyFile, atomically: true, encoding: .utf8)
    }
}

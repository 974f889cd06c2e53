// The Azure SDK for JavaScript "as the pod", unmodified: credentials from the env the webhook
// injects (pod.env), the lab reached by real host names through HTTPS_PROXY and
// NODE_EXTRA_CA_CERTS (lab.env). Driven by tests/lab_node.rs; one operation per run:
//   token                         WorkloadIdentityCredential, a Key Vault token's claims
//   secret VAULT NAME             DefaultAzureCredential + @azure/keyvault-secrets
//   blob ACCOUNT CONTAINER NAME   DefaultAzureCredential + @azure/storage-blob: upload, read back
//   msi SUB RG IDENTITY           DefaultAzureCredential + @azure/arm-msi: the identity, its credentials
// Prints `OK ...` lines, or `ERROR <status> <code>` and exits 3 for a refusal.
const { WorkloadIdentityCredential, DefaultAzureCredential } = require("@azure/identity");

async function main([op, ...args]) {
  switch (op) {
    case "token": {
      const token = await new WorkloadIdentityCredential().getToken("https://vault.azure.net/.default");
      const claims = JSON.parse(Buffer.from(token.token.split(".")[1], "base64url").toString());
      console.log("OK", claims.aud, claims.oid);
      break;
    }
    case "secret": {
      const { SecretClient } = require("@azure/keyvault-secrets");
      const [vault, name] = args;
      const client = new SecretClient(`https://${vault}.vault.azure.net`, new DefaultAzureCredential());
      const secret = await client.getSecret(name);
      console.log("OK", secret.value);
      break;
    }
    case "blob": {
      const { BlobServiceClient } = require("@azure/storage-blob");
      const [account, container, name] = args;
      const service = new BlobServiceClient(`https://${account}.blob.core.windows.net`, new DefaultAzureCredential());
      const blob = service.getContainerClient(container).getBlockBlobClient(name);
      const text = "written by @azure/storage-blob";
      await blob.uploadData(Buffer.from(text));
      const props = await blob.getProperties();
      const back = (await blob.downloadToBuffer()).toString();
      const absent = await service.getContainerClient(container).getBlobClient(`${name}.absent`).exists();
      console.log("OK", props.contentLength, back === text, absent);
      break;
    }
    case "msi": {
      const { ManagedServiceIdentityClient } = require("@azure/arm-msi");
      const [sub, rg, identity] = args;
      const client = new ManagedServiceIdentityClient(new DefaultAzureCredential(), sub);
      const found = await client.userAssignedIdentities.get(rg, identity);
      const subjects = [];
      for await (const c of client.federatedIdentityCredentials.list(rg, identity)) subjects.push(c.subject);
      console.log("OK", found.clientId, subjects.join(","));
      break;
    }
    default:
      throw new Error(`unknown operation ${op}`);
  }
}

main(process.argv.slice(2)).catch((e) => {
  // RestError carries the service's status and code; an identity error, Entra's description.
  const status = e.statusCode ?? "-";
  const code = e.code ?? e.errorResponse?.error ?? e.name;
  const detail = (e.errorResponse?.errorDescription ?? e.message ?? "").split("\n")[0];
  console.log("ERROR", status, code, detail);
  process.exit(3);
});

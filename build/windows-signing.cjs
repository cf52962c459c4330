// Windows Authenticode signing, the one part of the installer configuration that depends on the
// machine building it (build/installer-config.cjs applies it to electron-builder.yml).
// electron-builder reads a .pfx from WIN_CSC_LINK / CSC_LINK (with WIN_CSC_KEY_PASSWORD /
// CSC_KEY_PASSWORD) itself; Azure Trusted Signing needs its account named in
// the configuration, so it is added here from NYA_AZURE_* variables (the AZURE_TENANT_ID /
// AZURE_CLIENT_ID / AZURE_CLIENT_SECRET credentials are read by Microsoft's tooling). With neither,
// the build still runs and its installer is named `-unsigned`, so it cannot be mistaken for a release.
'use strict';
const AZURE_SETTINGS = {
  endpoint: 'NYA_AZURE_SIGNING_ENDPOINT',
  codeSigningAccountName: 'NYA_AZURE_SIGNING_ACCOUNT',
  certificateProfileName: 'NYA_AZURE_CERTIFICATE_PROFILE',
};

/** 'azure' | 'certificate' | 'unsigned', from the environment alone. */
function windowsSigningMode(env) {
  if (Object.values(AZURE_SETTINGS).every((name) => env[name])) return 'azure';
  if (env.WIN_CSC_LINK || env.CSC_LINK) return 'certificate';
  return 'unsigned';
}

function withWindowsSigning(config, env) {
  const mode = windowsSigningMode(env);
  const win = { ...config.win };
  const nsis = { ...config.nsis };
  if (mode === 'azure') {
    const azure = Object.fromEntries(Object.entries(AZURE_SETTINGS).map(([key, name]) => [key, env[name]]));
    // The same pinned publisher; the Azure options take one name where signtool's take a list.
    win.azureSignOptions = { ...azure, publisherName: win.signtoolOptions.publisherName[0] };
    delete win.signtoolOptions;
  }
  if (mode === 'unsigned') {
    nsis.artifactName = nsis.artifactName.replace(/\.\$\{ext\}$/, '-unsigned.${ext}');
  }
  // A release pipeline sets NYA_REQUIRE_SIGNING=1: a lost secret then fails the build instead of
  // quietly producing an unsigned installer.
  if (env.NYA_REQUIRE_SIGNING === '1') win.forceCodeSigning = true;
  return { ...config, win, nsis };
}

module.exports = { withWindowsSigning };

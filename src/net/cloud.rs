//! The endpoints of each Azure cloud, by the names the webhook's `AZURE_ENVIRONMENT` uses.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cloud {
    pub name: &'static str,
    pub authority: &'static str,
    pub arm: &'static str,
    pub graph: &'static str,
    pub vault_suffix: &'static str,
    pub blob_suffix: &'static str,
}

pub const PUBLIC: Cloud = Cloud {
    name: "AzurePublicCloud",
    authority: "https://login.microsoftonline.com",
    arm: "https://management.azure.com",
    graph: "https://graph.microsoft.com",
    vault_suffix: "vault.azure.net",
    blob_suffix: "blob.core.windows.net",
};

pub const CHINA: Cloud = Cloud {
    name: "AzureChinaCloud",
    authority: "https://login.chinacloudapi.cn",
    arm: "https://management.chinacloudapi.cn",
    graph: "https://microsoftgraph.chinacloudapi.cn",
    vault_suffix: "vault.azure.cn",
    blob_suffix: "blob.core.chinacloudapi.cn",
};

pub const US_GOVERNMENT: Cloud = Cloud {
    name: "AzureUSGovernmentCloud",
    authority: "https://login.microsoftonline.us",
    arm: "https://management.usgovcloudapi.net",
    graph: "https://graph.microsoft.us",
    vault_suffix: "vault.usgovcloudapi.net",
    blob_suffix: "blob.core.usgovcloudapi.net",
};

impl Cloud {
    /// `AzurePublicCloud`, `public`, `AzureChinaCloud`, `china`, `AzureUSGovernmentCloud`, `usgov`.
    pub fn parse(s: &str) -> Option<Cloud> {
        match s.to_ascii_lowercase().as_str() {
            "azurepubliccloud" | "public" | "azurecloud" => Some(PUBLIC),
            "azurechinacloud" | "china" => Some(CHINA),
            "azureusgovernmentcloud" | "usgov" | "usgovernment" => Some(US_GOVERNMENT),
            _ => None,
        }
    }

    pub fn arm_scope(&self) -> String {
        format!("{}/.default", self.arm)
    }

    pub fn graph_scope(&self) -> String {
        format!("{}/.default", self.graph)
    }
}

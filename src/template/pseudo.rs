//! The pseudo parameters (`AWS::Region`, `AWS::AccountId`, ...) with the values SAM CLI gives
//! them locally; the partition follows the region.

/// The values of the pseudo parameters, as SAM CLI gives them locally.
#[derive(Debug, Clone)]
pub struct Pseudo {
    pub region: String,
    pub account: String,
    pub stack_name: String,
}

impl Pseudo {
    /// The partition of the region: `aws-cn` for China, `aws-us-gov` for GovCloud, else `aws`.
    pub fn partition(&self) -> &'static str {
        if self.region.starts_with("cn-") {
            "aws-cn"
        } else if self.region.starts_with("us-gov-") {
            "aws-us-gov"
        } else {
            "aws"
        }
    }

    /// The value of the pseudo parameter `name`, if it is one.
    pub fn value(&self, name: &str) -> Option<String> {
        Some(match name {
            "AWS::Region" => self.region.clone(),
            "AWS::AccountId" => self.account.clone(),
            "AWS::StackName" => self.stack_name.clone(),
            "AWS::StackId" => format!(
                "arn:{}:cloudformation:{}:{}:stack/{}/51af3dc0-da77-11e4-872e-1234567db123",
                self.partition(),
                self.region,
                self.account,
                self.stack_name
            ),
            "AWS::Partition" => self.partition().into(),
            "AWS::URLSuffix" => match self.partition() {
                "aws-cn" => "amazonaws.com.cn".into(),
                _ => "amazonaws.com".into(),
            },
            _ => return None,
        })
    }
}

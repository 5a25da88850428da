//! The cleanup queue as the Lambda event source mapping works it, for the
//! suite and the demo alike: receive a batch from moto's SQS as the SQS event
//! Lambda hands the worker, then delete what the worker did not report as a
//! failure.

use std::collections::HashMap;

use aws_lambda_events::sqs::SqsMessage;
use aws_sdk_sqs::types::{MessageSystemAttributeName, QueueAttributeName};

use crate::seed::queue_attributes;

/// What one receive gets now (up to ten messages), each as a record of
/// Lambda's SQS event.
pub async fn receive(sqs: &aws_sdk_sqs::Client, url: &str) -> Vec<SqsMessage> {
    let received = sqs
        .receive_message()
        .queue_url(url)
        .max_number_of_messages(10)
        .message_system_attribute_names(MessageSystemAttributeName::All)
        .send()
        .await
        .expect("moto answers ReceiveMessage");
    let arn = queue_attributes(sqs, url, QueueAttributeName::QueueArn)
        .await
        .remove(&QueueAttributeName::QueueArn);
    let region = sqs.config().region().map(|region| region.to_string());
    received
        .messages
        .unwrap_or_default()
        .into_iter()
        .map(|message| {
            let mut record = SqsMessage::default();
            record.message_id = message.message_id;
            record.receipt_handle = message.receipt_handle;
            record.body = message.body;
            record.md5_of_body = message.md5_of_body;
            record.attributes = message
                .attributes
                .unwrap_or_default()
                .into_iter()
                .map(|(name, value)| (name.as_str().to_owned(), value))
                .collect::<HashMap<_, _>>();
            record.event_source = Some("aws:sqs".to_owned());
            record.event_source_arn.clone_from(&arn);
            record.aws_region.clone_from(&region);
            record
        })
        .collect()
}

/// What the event source mapping does once the worker answered: every
/// message of the batch it did not report in `failed` is deleted.
pub async fn settle(sqs: &aws_sdk_sqs::Client, url: &str, batch: &[SqsMessage], failed: &[String]) {
    for message in batch {
        let id = message.message_id.as_ref().expect("a record has an id");
        if !failed.contains(id) {
            sqs.delete_message()
                .queue_url(url)
                .receipt_handle(message.receipt_handle.clone().expect("a receipt handle"))
                .send()
                .await
                .expect("moto deletes the message");
        }
    }
}

/// How many messages the queue holds, visible, delayed or in flight.
pub async fn depth(sqs: &aws_sdk_sqs::Client, url: &str) -> usize {
    let attributes = queue_attributes(sqs, url, QueueAttributeName::All).await;
    [
        QueueAttributeName::ApproximateNumberOfMessages,
        QueueAttributeName::ApproximateNumberOfMessagesDelayed,
        QueueAttributeName::ApproximateNumberOfMessagesNotVisible,
    ]
    .iter()
    .filter_map(|name| attributes.get(name)?.parse::<usize>().ok())
    .sum()
}

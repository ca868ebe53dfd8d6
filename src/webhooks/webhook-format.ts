import { describeEvent } from './notification.js';
import { slackMessage } from './slack-message.js';
import { teamsMessage } from './teams-message.js';
import { deliveryBody, type WebhookEvent, type WebhookFormat } from './webhook-event.js';

/** The exact bytes one delivery sends, in the subscription's format. */
export function formatDelivery(
  format: WebhookFormat,
  event: WebhookEvent,
  sequence: number,
): string {
  switch (format) {
    case 'json':
      return deliveryBody(event, sequence);
    case 'teams':
      return JSON.stringify(teamsMessage(describeEvent(event)));
    case 'slack':
      return JSON.stringify(slackMessage(describeEvent(event)));
  }
}

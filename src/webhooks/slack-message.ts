import { clip, type Notification, type Tone } from './notification.js';

const EMOJI: Record<Tone, string> = {
  good: ':white_check_mark:',
  warning: ':warning:',
  attention: ':rotating_light:',
  neutral: ':information_source:',
};

/** Slack's three control characters in mrkdwn (api.slack.com/reference/surfaces/formatting#escaping). */
export function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/**
 * The body of a Slack incoming webhook (api.slack.com/messaging/webhooks): Block Kit `blocks`
 * with a plain `text` fallback for notifications. Limits kept: a header's plain_text at most 150
 * characters, a section's text 3,000, at most 10 fields of 2,000 each, a context's 10 elements
 * (docs.slack.dev/reference/block-kit/blocks/header-block, section-block, context-block).
 */
export function slackMessage(notification: Notification): Record<string, unknown> {
  const blocks: Record<string, unknown>[] = [
    {
      type: 'header',
      text: {
        type: 'plain_text',
        text: clip(`${EMOJI[notification.tone]} ${notification.title}`, 150),
        emoji: true,
      },
    },
    {
      type: 'section',
      text: { type: 'mrkdwn', text: clip(escapeMrkdwn(notification.summary), 3_000) },
    },
  ];
  if (notification.facts.length > 0) {
    blocks.push({
      type: 'section',
      fields: notification.facts.slice(0, 10).map((fact) => ({
        type: 'mrkdwn',
        text: clip(`*${escapeMrkdwn(fact.name)}*\n${escapeMrkdwn(fact.value)}`, 2_000),
      })),
    });
  }
  blocks.push({
    type: 'context',
    elements: [{ type: 'mrkdwn', text: clip(escapeMrkdwn(notification.footer), 3_000) }],
  });
  // The fallback is mrkdwn too (notifications, clients without Block Kit).
  return { text: escapeMrkdwn(`${notification.title}: ${notification.summary}`), blocks };
}

import type { Notification, Tone } from './notification.js';

/** Adaptive Card text colours (adaptivecards.io/explorer/TextBlock.html, `color`). */
const COLOR: Record<Tone, string> = {
  good: 'Good',
  warning: 'Warning',
  attention: 'Attention',
  neutral: 'Default',
};

/**
 * The body a Teams Workflows webhook ("Send webhook alerts to a channel", trigger "When a Teams
 * webhook request is received") and a classic incoming webhook both post: a `message` whose one
 * attachment is an Adaptive Card (learn.microsoft.com/microsoftteams/platform/webhooks-and-
 * connectors/how-to/connectors-using, "Send Adaptive Cards using an incoming webhook"). Version
 * 1.4: what Workflows' "Post card in a chat or channel" renders; no actions (Action.Submit is not
 * supported through webhooks, and the card only informs).
 */
export function teamsMessage(notification: Notification): Record<string, unknown> {
  const body: Record<string, unknown>[] = [
    {
      type: 'TextBlock',
      text: notification.title,
      weight: 'Bolder',
      size: 'Medium',
      color: COLOR[notification.tone],
      wrap: true,
    },
    { type: 'TextBlock', text: notification.summary, wrap: true },
  ];
  if (notification.facts.length > 0) {
    body.push({
      type: 'FactSet',
      facts: notification.facts.map((fact) => ({ title: fact.name, value: fact.value })),
    });
  }
  body.push({
    type: 'TextBlock',
    text: notification.footer,
    isSubtle: true,
    size: 'Small',
    wrap: true,
  });
  return {
    type: 'message',
    attachments: [
      {
        contentType: 'application/vnd.microsoft.card.adaptive',
        contentUrl: null,
        content: {
          $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
          type: 'AdaptiveCard',
          version: '1.4',
          body,
          msteams: { width: 'Full' },
        },
      },
    ],
  };
}

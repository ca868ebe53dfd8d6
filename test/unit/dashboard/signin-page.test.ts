import { describe, expect, it } from 'vitest';
import { layout } from '../../../src/dashboard/pages/layout.js';
import { signInLandingPage } from '../../../src/dashboard/pages/signin-page.js';
import { html } from '../../../src/web/html.js';

describe('the signed-out landing page', () => {
  it('offers the sign-in button back to the page asked for, and nothing that needs a session', () => {
    const page = signInLandingPage('/campaigns/c-1?state=failed&q="x"');
    expect(page).toContain(
      'href="/signin?returnTo=%2Fcampaigns%2Fc-1%3Fstate%3Dfailed%26q%3D%22x%22"',
    );
    expect(page).toContain('Sign in with Microsoft');
    expect(page).toContain('<title>Sign in · fleetscan</title>');
    expect(page).not.toContain('href="/audit"');
    expect(page).not.toContain('id="live-status"');
    expect(page).not.toContain('actions enabled');
    // The page's only script is the file the CSP allows; nothing inline.
    expect(page.match(/<script\b[^>]*>/g)).toEqual(['<script src="/static/dashboard.js" defer>']);
  });
});

describe('the header of a signed-in page', () => {
  const person = {
    name: 'Otto <Operator>',
    upn: 'otto@contoso.test',
    roles: ['viewer', 'operator'],
    via: 'entra',
    signOutToken: 'tok-123',
  };

  it('names the person, their strongest role, and posts Sign out with the session token', () => {
    const page = layout({ title: 'x', body: html``, allowActions: true, person });
    expect(page).toContain('Otto &lt;Operator&gt; · <span class="role">Operator</span>');
    expect(page).toContain('title="otto@contoso.test"');
    expect(page).toMatch(
      /<form class="signout" method="post" action="\/signout">\s*<input type="hidden" name="signout-token" value="tok-123" \/>\s*<button type="submit">Sign out<\/button>/,
    );
    // Roles listed strongest first still show the strongest.
    const admin = layout({
      title: 'x',
      body: html``,
      allowActions: true,
      person: { ...person, roles: ['admin', 'viewer'] },
    });
    expect(admin).toContain('<span class="role">Admin</span>');
  });

  it('shows no person and no Sign out for the shared credentials', () => {
    const page = layout({
      title: 'x',
      body: html``,
      allowActions: true,
      person: { ...person, via: 'token' },
    });
    expect(page).not.toContain('class="signout"');
    expect(page).not.toContain('class="who"');
  });
});
